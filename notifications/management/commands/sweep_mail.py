"""The former name of `manage.py sweep`, kept for crontabs and process files that
name it: the same maintenance loop (core/maintenance.py), mail and all."""

from core.management.commands import sweep


class Command(sweep.Command):
    help = "The former name of `manage.py sweep`: " + sweep.Command.help
