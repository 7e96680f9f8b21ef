import django_filters

from .models import Channel, Notification, NotificationStatus


class NotificationFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=NotificationStatus.choices)
    channel = django_filters.ChoiceFilter(choices=Channel.choices)

    class Meta:
        model = Notification
        fields = ("status", "channel")
