import django_filters

from pro_platform.filters import FilterSet

from .models import Channel, Notification, NotificationStatus


class NotificationFilter(FilterSet):
    status = django_filters.ChoiceFilter(choices=NotificationStatus.choices)
    channel = django_filters.ChoiceFilter(choices=Channel.choices)

    class Meta:
        model = Notification
        fields = ("status", "channel")
