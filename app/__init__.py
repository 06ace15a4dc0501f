"""StereoFoley Studio: the Dear PyGui workstation, the command line and project files.

The only package that imports dearpygui (lazily, from app.studio.ui).
"""
