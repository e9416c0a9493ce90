from django import template

register = template.Library()


@register.filter
def percent(value) -> str:
    """A 0..1 share as a percentage: 0.4567 -> 45.7%."""
    try:
        return f"{float(value) * 100:.1f}%"
    except (TypeError, ValueError):
        return ""
