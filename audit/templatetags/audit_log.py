from django import template

from audit import labels

register = template.Library()


@register.simple_tag
def entry_changes(entry):
    """An audit entry's changes in words, in the page's language (audit.labels)."""
    return labels.describe(entry)
