from django.contrib.admin.apps import AdminConfig


class ProspectorAdminConfig(AdminConfig):
    default_site = "config.admin.AdminSite"
