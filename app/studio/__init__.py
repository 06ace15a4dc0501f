"""The desktop studio: `ui/` holds the Dear PyGui modules, `session/` the window-free logic."""
