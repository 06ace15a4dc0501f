"""The sound library's vocabulary: tokens, stemming, synonyms, UCS category ids, sound kinds.

Text from file names, folder names, UCS ids and tags becomes stemmed tokens; tokens map to
synonym concepts ("walking" and "feet" both mean footsteps), and concepts decide which "kinds"
(e.g. "step/gravel", "impact/metal") the foley generator may draw a sound for. Pure data and
pure functions: nothing here reads files.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

STOPWORDS = frozenset(
    "a an and at by for from in into is it of off on onto or over the to under up with "
    "sound sounds sfx fx effect effects audio sample samples take version mono stereo wav flac ogg "
    "mp3 some very data assets media library misc".split()
)

_KEEP_S = ("ss", "us", "is", "ous")


def stem(word: str) -> str:
    """A light English stemmer: plurals and -ing/-ed forms fold onto one token.

    Consistency matters more than linguistics: queries and documents go through the same rules,
    so "footsteps"/"footstep" and "breaking"/"break" meet.
    """
    w = word.lower()
    if len(w) <= 3:
        return w
    if w.endswith("ies") and len(w) > 4:
        return w[:-3] + "y"
    if w.endswith(("sses", "shes", "ches", "xes", "zes")):
        return w[:-2]
    if w.endswith("s") and not w.endswith(_KEEP_S):
        return w[:-1]
    for suffix in ("ing", "ed"):
        if w.endswith(suffix) and len(w) - len(suffix) >= 3:
            base = w[: -len(suffix)]
            if len(base) > 3 and base[-1] == base[-2] and base[-1] not in "lsz":
                base = base[:-1]  # running -> run, dragged -> drag
            return base
    return w


def words(text: str) -> list[str]:
    """Raw lower-case words of a name: splits on punctuation, digits and camelCase."""
    spaced = re.sub(r"([a-z])([A-Z])", r"\1 \2", text)
    spaced = re.sub(r"([A-Z]+)([A-Z][a-z])", r"\1 \2", spaced)
    return [w.lower() for w in re.findall(r"[A-Za-z]+", spaced)]


def tokenize(text: str) -> list[str]:
    """Stemmed search tokens of `text`, without stopwords and one-letter words."""
    return [stem(w) for w in words(text) if len(w) > 1 and w.lower() not in STOPWORDS]


# First word of each group is the concept's name. A word may sit in several groups.
SYNONYM_GROUPS: tuple[tuple[str, ...], ...] = (
    ("step", "footstep", "footsteps", "steps", "walk", "walking", "feet", "foot", "footfall",
     "tread", "stomp", "stride", "run", "running", "jog", "pace", "gait", "shoe"),
    ("gravel", "pebble", "pebbles", "stones", "shingle", "grit", "rubble", "crunch"),
    ("stone", "rock", "concrete", "cobble", "cobblestone", "pavement", "asphalt", "marble",
     "brick", "hard"),
    ("wood", "wooden", "timber", "plank", "board", "floorboard", "log", "tree"),
    ("metal", "metallic", "steel", "iron", "tin", "aluminium", "aluminum", "brass", "copper",
     "chain", "anvil"),
    ("glass", "window", "bottle", "pane", "windowpane", "jar"),
    ("water", "liquid", "wet", "puddle", "river", "stream", "lake", "sea", "pond"),
    ("dirt", "earth", "soil", "mud", "ground", "clod"),
    ("grass", "lawn", "meadow", "turf", "weed"),
    ("snow", "snowy", "slush"),
    ("sand", "sandy", "beach", "desert"),
    ("ice", "icy", "frozen", "frost"),
    ("impact", "hit", "knock", "thud", "thump", "bang", "clang", "clank", "clunk", "bonk",
     "strike", "smack", "slam", "punch", "tap", "collide", "collision", "drop", "land",
     "landing", "hammer", "chop"),
    ("break", "smash", "shatter", "crash", "crack", "snap", "splinter", "destroy", "debris",
     "wreck"),
    ("body", "fall", "bodyfall", "thud", "punch", "kick", "flesh"),
    ("bounce", "ball", "boing", "bouncing", "rebound"),
    ("scrape", "scratch", "scraping", "friction", "slide", "sliding", "drag", "grind", "rub",
     "skid", "screech", "squeal", "roll", "rolling"),
    ("whoosh", "woosh", "swoosh", "swish", "swoop", "swing", "gust", "puff", "flyby",
     "swipe", "air"),
    ("engine", "vehicle", "car", "automobile", "auto", "truck", "lorry", "bus", "van", "motor",
     "motorcycle", "motorbike", "traffic", "drive", "driving", "idle", "rev"),
    ("train", "railway", "railroad", "locomotive", "metro", "subway", "tram", "rail"),
    ("aircraft", "airplane", "aeroplane", "plane", "jet", "propeller", "helicopter", "rotor",
     "flight"),
    ("boat", "ship", "ferry", "vessel"),
    ("machine", "machinery", "motor", "mechanical", "factory", "industrial", "drill",
     "jackhammer", "saw", "chainsaw", "tool", "elevator", "lift", "hum"),
    ("door", "gate", "doorway", "hatch", "entrance", "latch", "shutter"),
    ("open", "opening", "unlatch"),
    ("close", "closing", "shut", "slam"),
    ("creak", "squeak", "creaky", "squeaky"),
    ("splash", "splat", "splosh", "plop", "bubble", "bubbles", "gurgle", "drip", "dive"),
    ("animal", "creature", "beast", "pet", "wildlife", "farm", "bird"),
    ("dog", "puppy", "bark", "woof", "hound"),
    ("cat", "kitten", "meow", "purr"),
    ("horse", "neigh", "whinny", "gallop", "hoof"),
    ("cow", "cattle", "moo", "bull"),
    ("bird", "birds", "tweet", "chirp", "birdsong", "song", "owl", "duck", "rooster", "chicken"),
    ("ambience", "ambient", "ambiance", "atmosphere", "atmos", "background", "roomtone",
     "environment", "loop"),
    ("wind", "windy", "breeze", "gust", "storm", "gale"),
    ("fire", "flame", "burn", "burning", "blaze", "crackle", "campfire", "ignite", "torch"),
    ("explosion", "explode", "blast", "boom", "detonation", "bomb", "grenade"),
    ("crowd", "people", "audience", "applause", "clapping", "cheer"),
    ("electric", "electricity", "spark", "zap", "buzz", "arc"),
    ("horn", "honk", "beep", "klaxon", "hooter", "siren"),
)


def _concept_table() -> dict[str, tuple[str, ...]]:
    """Stemmed word -> the concepts it belongs to, built from SYNONYM_GROUPS."""
    table: dict[str, list[str]] = {}
    for group in SYNONYM_GROUPS:
        head = stem(group[0])
        for word in group:
            concepts = table.setdefault(stem(word), [])
            if head not in concepts:
                concepts.append(head)
    return {token: tuple(values) for token, values in table.items()}


CONCEPTS: dict[str, tuple[str, ...]] = _concept_table()


def concepts_of(token: str) -> tuple[str, ...]:
    """Synonym concepts of a stemmed token (empty when it is in no group)."""
    return CONCEPTS.get(token, ())


# ---------------------------------------------------------------- UCS category ids
# CatID -> (CATEGORY, SUBCATEGORY), after the Universal Category System's CatID convention
# (upper-case category abbreviation + capitalised subcategory abbreviation).
UCS_CATIDS: dict[str, tuple[str, str]] = {
    "AIRJet": ("AIRCRAFT", "JET"), "AIRProp": ("AIRCRAFT", "PROPELLER"),
    "AIRHeli": ("AIRCRAFT", "HELICOPTER"), "AIRMisc": ("AIRCRAFT", "MISC"),
    "AMBUrbn": ("AMBIENCE", "URBAN"), "AMBRurl": ("AMBIENCE", "RURAL"),
    "AMBFrst": ("AMBIENCE", "FOREST"), "AMBInd": ("AMBIENCE", "INDUSTRIAL"),
    "AMBMisc": ("AMBIENCE", "MISC"),
    "ANMLFarm": ("ANIMALS", "FARM"), "ANMLDog": ("ANIMALS", "DOG"), "ANMLCat": ("ANIMALS", "CAT"),
    "ANMLHors": ("ANIMALS", "HORSE"), "ANMLWild": ("ANIMALS", "WILD"),
    "ANMLAmph": ("ANIMALS", "AMPHIBIAN"), "ANMLInsct": ("ANIMALS", "INSECT"),
    "ANMLMisc": ("ANIMALS", "MISC"),
    "BIRDSong": ("BIRDS", "SONGBIRD"), "BIRDPrey": ("BIRDS", "PREY"), "BIRDFowl": ("BIRDS", "FOWL"),
    "BIRDWtfl": ("BIRDS", "WATERFOWL"), "BIRDMisc": ("BIRDS", "MISC"),
    "BOATHorn": ("BOATS", "HORN"), "BOATEngn": ("BOATS", "ENGINE"), "BOATMisc": ("BOATS", "MISC"),
    "CRSHVeh": ("CRASHES", "VEHICLE"), "CRSHMetl": ("CRASHES", "METAL"),
    "CRSHMisc": ("CRASHES", "MISC"),
    "CROWApls": ("CROWDS", "APPLAUSE"), "CROWMisc": ("CROWDS", "MISC"),
    "DIRTImpt": ("DIRT", "IMPACT"), "DIRTFric": ("DIRT", "FRICTION"),
    "DIRTMvmt": ("DIRT", "MOVEMENT"),
    "DOORWood": ("DOORS", "WOOD"), "DOORMetl": ("DOORS", "METAL"), "DOORGlas": ("DOORS", "GLASS"),
    "DOORGate": ("DOORS", "GATE"), "DOORKnck": ("DOORS", "KNOCK"), "DOORSlid": ("DOORS", "SLIDING"),
    "DOORCreak": ("DOORS", "CREAK"), "DOORMisc": ("DOORS", "MISC"),
    "ELECSprk": ("ELECTRICITY", "SPARK"), "ELECHum": ("ELECTRICITY", "HUM"),
    "ELECMisc": ("ELECTRICITY", "MISC"),
    "EXPLReal": ("EXPLOSIONS", "REAL"), "EXPLMisc": ("EXPLOSIONS", "MISC"),
    "FIREBurn": ("FIRE", "BURNING"), "FIRECrkl": ("FIRE", "CRACKLE"), "FIREIgn": ("FIRE", "IGNITE"),
    "FIREWhsh": ("FIRE", "WHOOSH"), "FIRESizz": ("FIRE", "SIZZLE"),
    "FOOTGrav": ("FOOTSTEPS", "GRAVEL"), "FOOTWood": ("FOOTSTEPS", "WOOD"),
    "FOOTGras": ("FOOTSTEPS", "GRASS"), "FOOTDirt": ("FOOTSTEPS", "DIRT"),
    "FOOTGlas": ("FOOTSTEPS", "GLASS"), "FOOTMetl": ("FOOTSTEPS", "METAL"),
    "FOOTSnow": ("FOOTSTEPS", "SNOW"), "FOOTSand": ("FOOTSTEPS", "SAND"),
    "FOOTStne": ("FOOTSTEPS", "STONE"), "FOOTIce": ("FOOTSTEPS", "ICE"),
    "FOOTWatr": ("FOOTSTEPS", "WATER"), "FOOTConc": ("FOOTSTEPS", "CONCRETE"),
    "FOOTCarp": ("FOOTSTEPS", "CARPET"), "FOOTTile": ("FOOTSTEPS", "TILE"),
    "FOOTMud": ("FOOTSTEPS", "MUD"), "FOOTLeav": ("FOOTSTEPS", "LEAVES"),
    "FEETHmn": ("FOOTSTEPS", "HUMAN"), "FEETAnml": ("FOOTSTEPS", "ANIMAL"),
    "FEETHors": ("FOOTSTEPS", "HORSE"), "FEETCrwd": ("FOOTSTEPS", "CROWD"),
    "FEETMisc": ("FOOTSTEPS", "MISC"),
    "GLASBrk": ("GLASS", "BREAK"), "GLASImpt": ("GLASS", "IMPACT"),
    "GLASFric": ("GLASS", "FRICTION"), "GLASMvmt": ("GLASS", "MOVEMENT"),
    "ICEImpt": ("ICE", "IMPACT"), "ICECrsh": ("ICE", "CRASH"), "ICEMvmt": ("ICE", "MOVEMENT"),
    "IMPTThud": ("IMPACTS", "THUD"), "IMPTKnck": ("IMPACTS", "KNOCK"),
    "IMPTBody": ("IMPACTS", "BODY"), "IMPTBnce": ("IMPACTS", "BOUNCE"),
    "IMPTMisc": ("IMPACTS", "MISC"),
    "MACHElev": ("MACHINES", "ELEVATOR"), "MACHStm": ("MACHINES", "STEAM"),
    "MACHInd": ("MACHINES", "INDUSTRIAL"), "MACHMisc": ("MACHINES", "MISC"),
    "METLImpt": ("METAL", "IMPACT"), "METLFric": ("METAL", "FRICTION"),
    "METLMvmt": ("METAL", "MOVEMENT"), "METLCrsh": ("METAL", "CRASH"),
    "METLBrk": ("METAL", "BREAK"),
    "ROCKImpt": ("ROCKS", "IMPACT"), "ROCKFric": ("ROCKS", "FRICTION"),
    "ROCKMvmt": ("ROCKS", "MOVEMENT"), "ROCKCrsh": ("ROCKS", "CRASH"),
    "TOOLPneu": ("TOOLS", "PNEUMATIC"), "TOOLSaw": ("TOOLS", "SAW"), "TOOLPwr": ("TOOLS", "POWER"),
    "TOOLHand": ("TOOLS", "HAND"),
    "TRNSteam": ("TRAINS", "STEAM"), "TRNDiesl": ("TRAINS", "DIESEL"),
    "TRNElec": ("TRAINS", "ELECTRIC"), "TRNPass": ("TRAINS", "PASS BY"),
    "TRNMisc": ("TRAINS", "MISC"),
    "VEHCar": ("VEHICLES", "CAR"), "VEHTruck": ("VEHICLES", "TRUCK"), "VEHBus": ("VEHICLES", "BUS"),
    "VEHMoto": ("VEHICLES", "MOTORCYCLE"), "VEHHorn": ("VEHICLES", "HORN"),
    "VEHSkid": ("VEHICLES", "SKID"), "VEHEngn": ("VEHICLES", "ENGINE"),
    "VEHMisc": ("VEHICLES", "MISC"),
    "WATRSplsh": ("WATER", "SPLASH"), "WATRBubl": ("WATER", "BUBBLES"),
    "WATRFlow": ("WATER", "FLOW"), "WATRDrip": ("WATER", "DRIP"), "WATRMisc": ("WATER", "MISC"),
    "WTHRRain": ("WEATHER", "RAIN"), "WTHRThun": ("WEATHER", "THUNDER"),
    "WHSHPuff": ("WHOOSHES", "PUFF"), "WHSHSwsh": ("WHOOSHES", "SWISH"),
    "WHSHBy": ("WHOOSHES", "PASS BY"), "WHSHMisc": ("WHOOSHES", "MISC"),
    "WINDGust": ("WIND", "GUST"), "WINDMisc": ("WIND", "MISC"),
    "WOODImpt": ("WOOD", "IMPACT"), "WOODCrsh": ("WOOD", "CRASH"), "WOODCrk": ("WOOD", "CRACK"),
    "WOODFric": ("WOOD", "FRICTION"), "WOODMvmt": ("WOOD", "MOVEMENT"), "WOODBrk": ("WOOD", "BREAK"),
}

_CATID_RE = re.compile(r"^([A-Z]{2,})([A-Z][a-z]+)$")


def _prefix_table() -> dict[str, str]:
    """Category abbreviation ("FOOT", "METL") -> CATEGORY, for CatIDs missing from UCS_CATIDS."""
    table: dict[str, str] = {}
    for catid, (category, _sub) in UCS_CATIDS.items():
        match = _CATID_RE.match(catid)
        if match is not None:
            table.setdefault(match.group(1), category)
    return table


_UCS_PREFIXES: dict[str, str] = _prefix_table()


def parse_ucs_catid(catid: str) -> tuple[str, str] | None:
    """(CATEGORY, SUBCATEGORY) for a UCS CatID such as "FOOTGrav"; None if it is not one."""
    if catid in UCS_CATIDS:
        return UCS_CATIDS[catid]
    match = _CATID_RE.match(catid)
    if match is None:
        return None
    prefix, sub = match.groups()
    category = _UCS_PREFIXES.get(prefix)
    if category is None:
        return None
    return category, sub.upper()


def parse_ucs_filename(stem_name: str) -> tuple[str, str, str, str] | None:
    """(CatID, CATEGORY, SUBCATEGORY, FXName) of a UCS file name "CatID_FXName_Creator_Source"."""
    parts = stem_name.split("_")
    if len(parts) < 2:
        return None
    parsed = parse_ucs_catid(parts[0])
    if parsed is None:
        return None
    return parts[0], parsed[0], parsed[1], parts[1]


# ---------------------------------------------------------------- kinds for the generator
# kind -> concepts that make a sound usable for it
KIND_TRIGGERS: dict[str, frozenset[str]] = {
    "step": frozenset({"step"}),
    "impact": frozenset({"impact", "break", "bounce"}),
    "scrape": frozenset({"scrape"}),
    "whoosh": frozenset({"whoosh"}),
    "engine": frozenset({"engine", "train", "aircraft", "boat", "machine"}),
    "ambience": frozenset({"ambience", "wind", "crowd"}),
    "door": frozenset({"door"}),
    "splash": frozenset({"splash"}),
    "animal": frozenset({"animal", "dog", "cat", "horse", "cow", "bird"}),
    "explosion": frozenset({"explosion"}),
    "fire": frozenset({"fire"}),
}
# concepts that veto a kind even when a trigger is present (a car horn is no engine loop)
KIND_BLOCKERS: dict[str, frozenset[str]] = {
    "engine": frozenset({"horn", "break", "scrape", "impact"}),
    "scrape": frozenset({"door"}),
    "impact": frozenset({"step", "door"}),
    "whoosh": frozenset({"step"}),
    "ambience": frozenset({"step", "impact"}),
}
# stemmed word -> qualifiers (surface, material, source) used after the slash of a kind
QUALIFIERS: dict[str, tuple[str, ...]] = {
    **{stem(w): ("gravel",) for w in ("gravel", "pebble", "shingle")},
    **{stem(w): ("wood",) for w in ("wood", "wooden", "timber", "plank", "floorboard", "tree")},
    **{stem(w): ("metal",) for w in ("metal", "metallic", "steel", "iron", "tin", "aluminium",
                                     "aluminum", "brass", "copper", "anvil")},
    **{stem(w): ("glass",) for w in ("glass", "window", "bottle", "pane")},
    **{stem(w): ("stone",) for w in ("stone", "rock", "cobble", "pavement", "marble", "brick")},
    stem("concrete"): ("concrete", "stone"),
    **{stem(w): ("water",) for w in ("water", "puddle", "splash", "wade", "river", "stream")},
    **{stem(w): ("dirt",) for w in ("dirt", "earth", "soil", "mud", "clod")},
    **{stem(w): ("grass",) for w in ("grass", "lawn", "meadow")},
    **{stem(w): (w,) for w in ("snow", "sand", "ice", "carpet", "tile", "leaves", "plastic",
                               "cloth", "paper", "rubber", "body", "ball")},
    **{stem(w): ("rubber",) for w in ("tire", "tyre")},
    stem("kick"): ("body",),
    **{stem(w): (w,) for w in ("car", "truck", "bus", "train", "helicopter", "boat", "ship",
                               "motorcycle", "wind", "fire", "crowd", "dog", "cat", "horse",
                               "cow", "sheep", "pig", "bird", "owl", "duck", "frog", "lion",
                               "monkey")},
    **{stem(w): ("aircraft",) for w in ("aircraft", "airplane", "plane", "jet", "propeller")},
    **{stem(w): ("machine",) for w in ("machine", "machinery", "jackhammer", "saw", "chainsaw")},
    **{stem(w): ("gate",) for w in ("gate", "fence")},
}


# surface classes the generator's procedural presets use: "step/hard", "step/soft"
SURFACE_CLASSES: dict[str, str] = {
    **dict.fromkeys(("stone", "concrete", "wood", "tile", "glass", "metal", "ice"), "hard"),
    **dict.fromkeys(("grass", "snow", "sand", "carpet", "dirt", "leaves"), "soft"),
}


def kinds_for(tokens: Iterable[str]) -> tuple[str, ...]:
    """Generator kinds ("step", "step/gravel", ...) that a sound with these stemmed tokens serves.

    A kind qualifies by material/surface/source; step kinds also get the surface class
    ("step/hard", "step/soft") so a request by class finds recorded surfaces.
    """
    token_set = set(tokens)
    concept_set = {c for t in token_set for c in concepts_of(t)} | token_set
    qualifiers = sorted({q for t in token_set for q in QUALIFIERS.get(t, ())})
    kinds: list[str] = []
    for kind, triggers in KIND_TRIGGERS.items():
        if not triggers & concept_set or KIND_BLOCKERS.get(kind, frozenset()) & concept_set:
            continue
        kinds.append(kind)
        kinds.extend(f"{kind}/{q}" for q in qualifiers if q != kind)
        if kind == "step":
            classes = sorted({SURFACE_CLASSES[q] for q in qualifiers if q in SURFACE_CLASSES})
            kinds.extend(f"step/{c}" for c in classes)
    return tuple(kinds)
