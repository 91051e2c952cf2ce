"""The campaign builder's form: plan, audience picked by name, contents with a time each, channels."""

from datetime import timedelta

from django import forms
from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from crm.models import Contact, ContactList, Segment, Tag
from crm.selectors import contact_lists, segments_sized
from publishing.best_times import best_time_in_window
from publishing.choices import ContentStatus
from publishing.forms import _words
from publishing.models import Campaign, Channel, Content

# The newest contents a builder offers; older ones stay on the campaign when already in it.
CONTENT_CHOICES = 100
WEBSITE = "website"


class LocalDateTimeInput(forms.DateTimeInput):
    """A browser date-and-time picker; the value is read in the team's time zone."""

    input_type = "datetime-local"

    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m-%dT%H:%M", **kwargs)


class SizedSegmentField(forms.ModelMultipleChoiceField):
    """Segments (or lists) named with their live member count, when `sizes` ({segment id: count}) is given."""

    sizes: dict[int, int] = {}

    def label_from_instance(self, segment):
        size = self.sizes.get(segment.pk)
        return segment.name if size is None else f"{segment.name} ({size} member{'' if size == 1 else 's'})"


def channel_label(channel) -> str:
    """A channel named with how a post reaches it (an account, by hand, the site)."""
    if channel.kind == WEBSITE:
        how = "on this site's public pages"
    elif channel.provider_account_id:
        how = f"posted through {channel.provider_account.name}"
    else:
        how = "you post it by hand from a ready-to-paste text"
    return f"{channel.name} — {how}"


class ChannelField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, channel):
        return channel_label(channel)


def usable_channels():
    """Active channels that can take a post: with an enabled account, or published by hand (no account)."""
    return (Channel.objects.filter(active=True)
            .filter(Q(provider_account__isnull=True) | Q(provider_account__enabled=True))
            .select_related("provider_account").order_by("name", "pk"))


def audience_fields() -> dict[str, forms.Field]:
    """The audience pickers, shared by the campaign builder and the email send form."""
    return {
        "segments": SizedSegmentField(queryset=Segment.objects.all(), required=False,
                                      widget=forms.CheckboxSelectMultiple, label="Segments"),
        "lists": SizedSegmentField(queryset=ContactList.objects.all(), required=False,
                                   widget=forms.CheckboxSelectMultiple, label="Lists of contacts"),
        "tags": forms.ModelMultipleChoiceField(queryset=Tag.objects.all(), required=False,
                                               widget=forms.CheckboxSelectMultiple, label="Contacts tagged"),
        "domains": forms.CharField(required=False, label="Company domains",
                                   help_text="Comma-separated, e.g. example.com, acme.io."),
        "emails": forms.CharField(required=False, label="These people", widget=forms.Textarea(attrs={"rows": 2}),
                                  help_text="Email addresses, one a line or comma-separated."),
        "exclude_segments": SizedSegmentField(queryset=Segment.objects.all(), required=False,
                                              widget=forms.CheckboxSelectMultiple, label="Leave out members of"),
        "exclude_lists": SizedSegmentField(queryset=ContactList.objects.all(), required=False,
                                           widget=forms.CheckboxSelectMultiple, label="Leave out people on"),
    }


class AudienceMixin:
    """Reads the audience pickers into the campaign's audience and back."""

    def _set_up_audience(self, *, sized: bool):
        self.fields.update(audience_fields())
        if sized:
            sizes = {segment.pk: segment.size for segment in segments_sized()}
            self.fields["segments"].sizes = self.fields["exclude_segments"].sizes = sizes
            list_sizes = {contact_list.pk: contact_list.size for contact_list in contact_lists()}
            self.fields["lists"].sizes = self.fields["exclude_lists"].sizes = list_sizes

    def clean_domains(self):
        return [domain.lower().lstrip("@") for domain in _words(self.cleaned_data["domains"])]

    def clean_emails(self):
        emails = [email.lower() for email in _words(self.cleaned_data["emails"].replace("\n", ","))]
        found = dict(Contact.objects.filter(email__in=emails, erased_at__isnull=True).values_list("email", "pk"))
        unknown = [email for email in emails if email not in found]
        if unknown:
            raise forms.ValidationError(f"No contact has the address {', '.join(unknown)}.")
        return [found[email] for email in emails]

    def audience(self) -> dict:
        data = self.cleaned_data
        return {"segment_ids": [s.pk for s in data["segments"]], "tag_ids": [t.pk for t in data["tags"]],
                "domains": data["domains"], "contact_ids": data["emails"],
                "exclude_segment_ids": [s.pk for s in data["exclude_segments"]],
                "list_ids": [lst.pk for lst in data["lists"]],
                "exclude_list_ids": [lst.pk for lst in data["exclude_lists"]]}

    @staticmethod
    def audience_initial(audience: dict) -> dict:
        emails = Contact.objects.filter(pk__in=audience.get("contact_ids", ())).values_list("email", flat=True)
        return {"segments": audience.get("segment_ids", []), "tags": audience.get("tag_ids", []),
                "domains": ", ".join(audience.get("domains", [])), "emails": "\n".join(sorted(emails)),
                "exclude_segments": audience.get("exclude_segment_ids", []), "lists": audience.get("list_ids", []),
                "exclude_lists": audience.get("exclude_list_ids", [])}


class AudienceForm(AudienceMixin, forms.Form):
    """The audience alone: the live count recounts from it as the pickers change."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._set_up_audience(sized=False)


UTM_FIELDS = ("utm_enabled", "utm_source", "utm_medium", "utm_campaign")
# Saved as they are typed, by name.
PLAIN_FIELDS = (*UTM_FIELDS, "reading_grade")


class CampaignForm(AudienceMixin, forms.Form):
    name = forms.CharField(max_length=200)
    goal = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}),
                           help_text="What the campaign is for, e.g. 40 demo requests from the spring webinar.")
    starts_at = forms.DateTimeField(label="Starts", required=False, widget=LocalDateTimeInput(),
                                    help_text="Posts without their own time go out then.")
    ends_at = forms.DateTimeField(label="Ends", required=False, widget=LocalDateTimeInput())
    contents = forms.ModelMultipleChoiceField(queryset=Content.objects.none(), required=False,
                                              widget=forms.CheckboxSelectMultiple, label="Contents")
    utm_enabled = forms.BooleanField(label="Add UTM parameters to links", required=False,
                                     help_text="Web analytics then credit the campaign for the visits its posts bring.")
    utm_source = forms.CharField(label="utm_source", max_length=100, required=False,
                                 help_text="Empty: each channel's short name.")
    utm_medium = forms.CharField(label="utm_medium", max_length=100, required=False, help_text="Empty: “social”.")
    utm_campaign = forms.CharField(label="utm_campaign", max_length=100, required=False,
                                   help_text="Empty: the campaign's name, slugified.")
    reading_grade = forms.IntegerField(label="Reading grade target", required=False, min_value=1, max_value=18,
                                       help_text=Campaign._meta.get_field("reading_grade").help_text)

    def __init__(self, *args, campaign=None, **kwargs):
        super().__init__(*args, **kwargs)
        self._set_up_audience(sized=True)
        zone = settings.TIME_ZONE
        self.fields["starts_at"].help_text += f" Times are in {zone}."
        self.channels = list(usable_channels())
        chosen = list(campaign.campaign_contents.values_list("content_id", flat=True)) if campaign else []
        recent = (Content.objects.exclude(status=ContentStatus.ARCHIVED).order_by("-updated_at", "-pk")
                  .values_list("pk", flat=True)[:CONTENT_CHOICES])
        self.best_time_notes: dict[int, str] = {}
        # The channel whose heat map backs a suggestion: the person can see the hours behind it.
        self.best_time_channels: dict[int, int] = {}
        self.content_rows = list(Content.objects.filter(Q(pk__in=list(recent)) | Q(pk__in=chosen))
                                 .prefetch_related("versions").order_by("-updated_at", "-pk"))
        self.fields["contents"].queryset = Content.objects.filter(pk__in=[c.pk for c in self.content_rows])
        for content in self.content_rows:
            self.fields[f"publish_at_{content.pk}"] = forms.DateTimeField(
                label=f"Time for “{content.title}”", required=False,
                widget=LocalDateTimeInput(attrs={"aria-label": f"Time for “{content.title}”"}))
            self.fields[f"channels_{content.pk}"] = ChannelField(
                queryset=Channel.objects.filter(pk__in=[c.pk for c in self.channels]), required=False,
                widget=forms.CheckboxSelectMultiple, label=f"Post “{content.title}” on")
            # The channels were read once above: every row lists them without a query of its own.
            self.fields[f"channels_{content.pk}"].choices = [
                (channel.pk, channel_label(channel)) for channel in self.channels]

    def clean(self):
        data = super().clean()
        starts, ends = data.get("starts_at"), data.get("ends_at")
        if starts and ends and ends < starts:
            self.add_error("ends_at", "The campaign ends before it starts.")
        for content in data.get("contents") or ():
            if not data.get(f"channels_{content.pk}"):
                self.add_error(f"channels_{content.pk}", f"Choose where to post “{content.title}”.")
        return data

    def content_table(self):
        """Each offered content with its checkbox state, its time field, and the versions no chosen
        channel can carry (a version is made for a channel kind; nothing posts it without that channel)."""
        chosen_ids = {str(value) for value in (self["contents"].value() or [])}
        kinds = {channel.kind for channel in self.channels}
        return [{"content": content, "checked": str(content.pk) in chosen_ids,
                 "when": self[f"publish_at_{content.pk}"], "channels": self[f"channels_{content.pk}"],
                 "unpostable": sorted(v.kind for v in content.versions.all() if v.kind not in kinds),
                 "best_time_note": self.best_time_notes.get(content.pk, ""),
                 "heat_map_channel": self.best_time_channels.get(content.pk)}
                for content in self.content_rows]

    def best_time(self, content_pk: str) -> dict | None:
        """The data of this form with the best hour for one content's post filled in, and a sentence
        saying what was chosen and how sure it is (None when the content is not offered).

        The window is the day its time field (else the campaign's start, else tomorrow) falls on,
        cut to the campaign's start and end and to the future."""
        content = next((c for c in self.content_rows if str(c.pk) == str(content_pk)), None)
        if content is None:
            return None
        self.is_valid()  # reads what the person filled in so far; the rest stays for them to finish
        data = self.cleaned_data
        channels = list(data.get(f"channels_{content.pk}") or [])
        if not channels:
            return {"note": f"Choose where to post “{content.title}” first: the best time is per channel."}
        zone = timezone.get_current_timezone()
        now = timezone.now()
        anchor = data.get(f"publish_at_{content.pk}") or data.get("starts_at") or now + timedelta(days=1)
        day_start = timezone.localtime(anchor, zone).replace(hour=0, minute=0, second=0, microsecond=0)
        start = max(day_start, now, data.get("starts_at") or now)
        end = min(day_start + timedelta(days=1), data.get("ends_at") or day_start + timedelta(days=1))
        best = best_time_in_window(channels=channels, start=start, end=end)
        if best is None:
            return {"note": f"No hour is left on {day_start:%A %d %B} for “{content.title}”: pick another day."}
        at = best["at"]
        new_data = self.data.copy()
        new_data[f"publish_at_{content.pk}"] = at.strftime("%Y-%m-%dT%H:%M")
        where = ", ".join(channel.name for channel in channels)
        seen = f"{best['posts']} post{'s' if best['posts'] != 1 else ''} seen at that hour"
        note = f"Best time for “{content.title}” on {where}: {at:%A %H:%M} ({best['confidence_label']}, {seen})."
        return {"data": new_data, "note": note, "channel": channels[0].pk}

    def service_fields(self) -> dict:
        data = self.cleaned_data
        contents = [(content, data.get(f"publish_at_{content.pk}"), list(data[f"channels_{content.pk}"]))
                    for content in data["contents"]]
        # The campaign's channels are every channel one of its contents goes to.
        channels = {channel.pk: channel for _, _, chosen in contents for channel in chosen}
        return {"name": data["name"], "description": data["goal"], "starts_at": data["starts_at"],
                "ends_at": data["ends_at"], "audience": self.audience(), "channels": list(channels.values()),
                "contents": contents, **{name: data[name] for name in PLAIN_FIELDS}}

    @classmethod
    def initial_for(cls, campaign) -> dict:
        initial = {"name": campaign.name, "goal": campaign.description, "starts_at": campaign.starts_at,
                   "ends_at": campaign.ends_at, **cls.audience_initial(campaign.audience or {}),
                   **{name: getattr(campaign, name) for name in PLAIN_FIELDS}}
        campaign_channels = [c.pk for c in campaign.channels.all()]
        entries = list(campaign.campaign_contents.prefetch_related("channels"))
        initial["contents"] = [entry.content_id for entry in entries]
        for entry in entries:
            initial[f"publish_at_{entry.content_id}"] = entry.publish_at
            initial[f"channels_{entry.content_id}"] = [c.pk for c in entry.channels.all()] or campaign_channels
        return initial
