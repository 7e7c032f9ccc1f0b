"""Settings for Shuyuan: ``base`` holds what every environment shares; ``dev``, ``test`` and
``production`` each start from it. Choose one with ``DJANGO_SETTINGS_MODULE``."""
