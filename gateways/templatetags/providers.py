"""Links to the provider pages from other apps' pages are offered only to those who may open them;
everyone else is told who can."""

from django import template

from gateways import permissions

register = template.Library()
register.filter("manages_providers", permissions.manages_providers)
