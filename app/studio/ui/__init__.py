"""The studio's Dear PyGui modules: the window, its panels and bars, theme and shortcuts.

The only studio modules that import dearpygui. Each widget shows state from
`app.studio.session` and its callbacks call one `StudioController` method.
"""
