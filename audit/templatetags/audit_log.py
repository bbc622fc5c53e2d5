from django import template

from audit.labels import field_label

register = template.Library()


@register.filter
def change_label(name):
    """The label of a changed field in an audit entry, in the page's language."""
    return field_label(name)
