"""DAW sessions of a render: the stems (baked, or dry with pan/volume automation) and the picture
as a Reaper project, an OpenTimelineIO timeline and an AAF composition."""
