from django.contrib import admin

from .models import PurgeRecord, Retention

admin.site.register(PurgeRecord)
admin.site.register(Retention)
