"""Flask-WTF forms for sign-in, accounts and editing a service (every field, no JavaScript).

A service form is turned into an HSDS-shaped body and goes through the same parsing and
validation as the JSON API (models.change_requests.parse_service).

Labels, choice labels and validation messages are lazy translations (Flask-Babel's
lazy_gettext, imported as `_` so that extraction finds them): each renders in the viewer's
language. Field names and submitted values stay as they are.
"""

import re

from flask_babel import lazy_gettext as _
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    EmailField,
    FieldList,
    Form,
    FormField,
    HiddenField,
    IntegerField,
    PasswordField,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, EqualTo, Length, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from directory import hsds
from directory.models.users import ROLES

BLANK_ROWS = 2  # empty rows offered for adding a phone, schedule, language, area or location
REQUIRED = _("This field is required.")
NOT_A_CHOICE = _("Choose one of the options.")
ROLE_LABELS = {"admin": _("admin"), "moderator": _("moderator"), "editor": _("editor"),
               "partner": _("partner")}  # fmt: skip


def choices(pairs) -> list[SelectChoice]:
    """(value, label) pairs as WTForms choices."""
    return [SelectChoice(value, label) for value, label in pairs]


def required() -> DataRequired:
    """The field must be filled in."""
    return DataRequired(message=REQUIRED)


def at_most(limit: int) -> Length:
    """No more than `limit` characters."""
    return Length(max=limit, message=_("Use at most %(max)d characters."))


def role_choices() -> list[SelectChoice]:
    """The account roles, each labelled in the viewer's language."""
    return choices((r, ROLE_LABELS.get(r, r)) for r in ROLES)


class MultiCheckboxField(SelectMultipleField):
    """A list of checkboxes (works without JavaScript)."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()

    def __init__(self, label=None, validators=None, **kwargs):
        kwargs.setdefault("invalid_choice_message", _("%(value)s is not one of the options."))
        super().__init__(label, validators, **kwargs)


class ChoiceField(SelectField):
    """A drop-down list whose "not a valid choice" message is translated."""

    def __init__(self, label=None, validators=None, **kwargs):
        kwargs.setdefault("invalid_choice_message", NOT_A_CHOICE)
        super().__init__(label, validators, **kwargs)


class WholeNumberField(IntegerField):
    """A whole number whose "not a valid integer" message is translated."""

    def __init__(self, label=None, validators=None, **kwargs):
        kwargs.setdefault("invalid_value_message", _("Give a whole number, such as 12."))
        super().__init__(label, validators, **kwargs)


class EmptyForm(FlaskForm):
    """A POST-only button with its CSRF token."""

    submit = SubmitField(_("Submit"))


class LoginForm(FlaskForm):
    """Email and password."""

    email = EmailField(_("Email"), validators=[required(), at_most(254)])
    password = PasswordField(_("Password"), validators=[required(), at_most(1000)])
    submit = SubmitField(_("Sign in"))


class SetPasswordForm(FlaskForm):
    """A new password, twice (invitation and reset links)."""

    password = PasswordField(
        _("New password"),
        validators=[
            required(),
            Length(min=10, max=1000, message=_("Use from %(min)d to %(max)d characters.")),
        ],
    )
    confirm = PasswordField(
        _("New password again"),
        validators=[required(), EqualTo("password", _("The two passwords are not the same."))],
    )
    submit = SubmitField(_("Set password"))


class ChangePasswordForm(SetPasswordForm):
    """The current password and a new one."""

    current = PasswordField(_("Current password"), validators=[required(), at_most(1000)])
    submit = SubmitField(_("Change password"))


class UserForm(FlaskForm):
    """An admin creates an account; the person sets a password through an invitation link."""

    email = EmailField(_("Email"), validators=[required(), at_most(254)])
    role = ChoiceField(_("Role"), choices=role_choices())
    organizations = MultiCheckboxField(_("Organisations (editors)"), choices=[])
    submit = SubmitField(_("Create and make an invitation link"))


class UserEditForm(FlaskForm):
    """An admin changes a role, organisations or whether the account is active."""

    role = ChoiceField(_("Role"), choices=role_choices())
    active = BooleanField(_("Active"))
    organizations = MultiCheckboxField(_("Organisations (editors)"), choices=[])
    submit = SubmitField(_("Save"))


class OrganizationForm(FlaskForm):
    """An organisation's name and contact details (admins)."""

    name = StringField(_("Name"), validators=[required(), at_most(300)])
    description = TextAreaField(_("Description"), validators=[Optional(), at_most(5000)])
    website = StringField(_("Website"), validators=[Optional(), at_most(2000)])
    email = StringField(_("Email"), validators=[Optional(), at_most(254)])
    submit = SubmitField(_("Save"))


class RejectForm(FlaskForm):
    """Rejecting a proposal needs a reason its author will read."""

    reason = TextAreaField(_("Reason"), validators=[required(), at_most(2000)])
    submit = SubmitField(_("Reject"))


class VerifyForm(FlaskForm):
    """Confirm a listing is still accurate; tick the phones called today."""

    tested = MultiCheckboxField(_("Phones I called today and reached the service"), choices=[])
    submit = SubmitField(_("Confirm still accurate"))


class PhoneForm(Form):
    """One phone number."""

    id = HiddenField()
    number = StringField(_("Number"), validators=[Optional(), at_most(100)])
    extension = StringField(_("Ext."), validators=[Optional(), at_most(40)])
    type = ChoiceField(
        _("Type"),
        choices=choices(
            [
                ("voice", _("voice")),
                ("cell", _("mobile")),
                ("text", _("text messages only")),
                ("fax", _("fax")),
                ("textphone", _("textphone (TTY)")),
            ]
        ),
        default="voice",
    )
    description = StringField(_("Description"), validators=[Optional(), at_most(500)])
    sms = BooleanField(_("Takes SMS"))
    sms_body = StringField(_("SMS keyword"), validators=[Optional(), at_most(200)])
    tested_on = StringField(_("Tested on (YYYY-MM-DD)"), validators=[Optional(), at_most(10)])
    remove = BooleanField(_("Remove"))


class ScheduleForm(Form):
    """Opening hours on some days."""

    id = HiddenField()
    byday = StringField(_("Days (MO,TU,WE,TH,FR,SA,SU)"), validators=[Optional(), at_most(40)])
    opens_at = StringField(_("Opens (HH:MM)"), validators=[Optional(), at_most(8)])
    closes_at = StringField(_("Closes (HH:MM)"), validators=[Optional(), at_most(8)])
    description = StringField(_("Description"), validators=[Optional(), at_most(500)])
    remove = BooleanField(_("Remove"))


class LanguageForm(Form):
    """A language spoken (ISO 639 code)."""

    id = HiddenField()
    code = StringField(_("Code (fil, ceb, war, en, ...)"), validators=[Optional(), at_most(20)])
    note = StringField(_("Note"), validators=[Optional(), at_most(500)])
    remove = BooleanField(_("Remove"))


class AreaForm(Form):
    """A place served: a PSGC code or a place name."""

    id = HiddenField()
    place = StringField(_("Place (name or PSGC code)"), validators=[Optional(), at_most(200)])
    remove = BooleanField(_("Remove"))


class LocationForm(Form):
    """Where the service is, with its address and whether that address is confidential."""

    id = HiddenField()
    name = StringField(_("Name"), validators=[Optional(), at_most(300)])
    place = StringField(
        _("City or area (name or PSGC code)"), validators=[Optional(), at_most(200)]
    )
    confidential = BooleanField(_("Confidential address (the public sees only the city)"))
    address_1 = StringField(_("Street address"), validators=[Optional(), at_most(500)])
    address_2 = StringField(_("Address line 2"), validators=[Optional(), at_most(500)])
    city = StringField(_("City"), validators=[Optional(), at_most(200)])
    postal_code = StringField(_("Postal code"), validators=[Optional(), at_most(20)])
    remove = BooleanField(_("Remove"))


YES_NO = [("", _("unknown")), ("1", _("yes")), ("0", _("no"))]
TEXT_FIELDS = (
    "name", "alternate_name", "description", "url", "email", "interpretation_services",
    "application_process", "fees_description", "eligibility_description", "alert",
    "other_channels", "hours_text", "hours_note", "notes",
)  # fmt: skip


class ServiceForm(FlaskForm):
    """Every editable field of a service."""

    version = HiddenField()  # the version the form was filled from: checked when saving
    organization_id = ChoiceField(_("Organisation"), choices=[])
    name = StringField(_("Name"), validators=[required(), at_most(300)])
    alternate_name = StringField(_("Other name"), validators=[Optional(), at_most(300)])
    description = TextAreaField(_("What the service does"), validators=[Optional(), at_most(5000)])
    status = ChoiceField(
        _("Status"),
        choices=choices(
            [
                ("active", _("active")),
                ("inactive", _("inactive")),
                ("temporarily closed", _("temporarily closed")),
                ("defunct", _("defunct")),
            ]
        ),
    )
    url = StringField(_("Website"), validators=[Optional(), at_most(2000)])
    email = StringField(_("Email"), validators=[Optional(), at_most(254)])
    alert = StringField(_("Alert shown on the listing"), validators=[Optional(), at_most(1000)])
    eligibility_description = TextAreaField(
        _("Who is eligible"), validators=[Optional(), at_most(5000)]
    )
    minimum_age = WholeNumberField(_("Minimum age"), validators=[Optional()])
    maximum_age = WholeNumberField(_("Maximum age"), validators=[Optional()])
    gender = ChoiceField(
        _("Gender"),
        choices=choices([("", _("anyone")), ("female", _("female")), ("male", _("male"))]),
    )
    free = ChoiceField(_("Free of charge"), choices=choices(YES_NO))
    fees_description = TextAreaField(_("Fees"), validators=[Optional(), at_most(5000)])
    application_process = TextAreaField(
        _("How to be referred / apply"), validators=[Optional(), at_most(5000)]
    )
    interpretation_services = StringField(
        _("Interpretation"), validators=[Optional(), at_most(1000)]
    )
    twenty_four_seven = BooleanField(_("Open 24 hours, 7 days"))
    hours_text = StringField(
        _("Opening hours as published"), validators=[Optional(), at_most(1000)]
    )
    hours_note = StringField(_("Note on hours"), validators=[Optional(), at_most(1000)])
    other_channels = TextAreaField(
        _("Other channels (chat, web forms, SMS keywords)"), validators=[Optional(), at_most(2000)]
    )
    notes = TextAreaField(_("Notes"), validators=[Optional(), at_most(5000)])
    kind = StringField(
        _("Kind (hotline, residential_centre, ...)"), validators=[Optional(), at_most(100)]
    )
    victim_facing = BooleanField(_("Survivors and families may contact it directly"))
    source_url = StringField(
        _("Source of these facts (URL)"), validators=[Optional(), at_most(2000)]
    )
    source_date = StringField(_("Date of the source"), validators=[Optional(), at_most(100)])
    taxonomy_terms = MultiCheckboxField(_("Service types"), choices=[])
    phones = FieldList(FormField(PhoneForm), label=_("Phones"))
    schedules = FieldList(FormField(ScheduleForm), label=_("Hours"))
    languages = FieldList(FormField(LanguageForm), label=_("Languages"))
    service_areas = FieldList(FormField(AreaForm), label=_("Service area"))
    locations = FieldList(FormField(LocationForm), label=_("Locations"))
    submit = SubmitField(_("Submit"))

    def fill(self, record: dict | None) -> None:
        """Prefill from a stored record (None for a new service) plus blank rows to add."""
        record = record or {}
        for key in TEXT_FIELDS:
            getattr(self, key).data = record.get(key)
        self.status.data = record.get("status") or "active"
        self.minimum_age.data = record.get("minimum_age")
        self.maximum_age.data = record.get("maximum_age")
        self.gender.data = record.get("gender") or ""
        self.free.data = "" if record.get("free") is None else str(int(record["free"]))
        self.twenty_four_seven.data = bool(record.get("twenty_four_seven"))
        self.victim_facing.data = bool(record.get("victim_facing", 1))
        for key in ("kind", "source_url", "source_date"):
            getattr(self, key).data = record.get(key)
        self.taxonomy_terms.data = list(record.get("taxonomy_terms", []))
        if record.get("organization_id"):
            self.organization_id.data = record["organization_id"]
        for row in record.get("phones", []):
            self.phones.append_entry(
                {k: row.get(k) for k in ("id", "number", "extension", "description", "sms_body")}
                | {
                    "type": row.get("type") or "voice",
                    "sms": bool(row.get("sms")),
                    "tested_on": row.get("tested_on"),
                }
            )
        for row in record.get("schedules", []):
            self.schedules.append_entry(row)
        for row in record.get("languages", []):
            self.languages.append_entry(row)
        for row in record.get("service_areas", []):
            self.service_areas.append_entry({"id": row["id"], "place": row.get("area_code")})
        for row in record.get("locations", []):
            address = (row.get("addresses") or [{}])[0]
            self.locations.append_entry(
                {
                    "id": row["id"],
                    "name": row.get("name"),
                    "place": row.get("area_code"),
                    "confidential": bool(row.get("confidential")),
                    **{k: address.get(k) for k in ("address_1", "address_2", "city")},
                    "postal_code": address.get("postal_code"),
                }
            )
        for field in (self.phones, self.schedules, self.languages, self.service_areas):
            for _row in range(BLANK_ROWS):
                field.append_entry()
        self.locations.append_entry()

    def to_body(self, current: dict | None) -> dict:
        """The HSDS-shaped body this form asks for; rows left as they were are sent exactly as
        stored, so they stay unchanged (and keep fields the form does not show)."""
        current = current or {}
        body: dict = {key: (getattr(self, key).data or None) for key in TEXT_FIELDS}
        body["organization_id"] = self.organization_id.data or current.get("organization_id")
        body["status"] = self.status.data
        body["minimum_age"] = self.minimum_age.data
        body["maximum_age"] = self.maximum_age.data
        body["gender"] = self.gender.data or None
        body["free"] = None if self.free.data == "" else self.free.data == "1"
        body["twenty_four_seven"] = bool(self.twenty_four_seven.data)
        body["victim_facing"] = bool(self.victim_facing.data)
        body["kind"] = _text(self.kind.data)
        body["source"] = {"url": _text(self.source_url.data), "date": _text(self.source_date.data)}
        body["taxonomy_terms"] = list(self.taxonomy_terms.data or [])
        body["phones"] = _rows(self.phones, current.get("phones", []), _phone)
        body["schedules"] = _rows(self.schedules, current.get("schedules", []), _schedule)
        body["languages"] = _rows(self.languages, current.get("languages", []), _language)
        body["service_areas"] = _rows(self.service_areas, current.get("service_areas", []), _area)
        body["locations"] = _rows(self.locations, current.get("locations", []), _location)
        return body


# What a field of a service record (a key of change_requests.diff, or a segment of an invalid
# field's path such as "phones[0].number") is called on the staff pages.
FIELD_LABELS = {
    "id": _("ID"), "organization_id": _("Organisation"), "organization": _("Organisation"),
    "name": _("Name"), "alternate_name": _("Other name"), "description": _("Description"),
    "url": _("Website"), "email": _("Email"), "status": _("Status"),
    "interpretation_services": _("Interpretation"),
    "application_process": _("How to be referred / apply"), "fees_description": _("Fees"),
    "eligibility_description": _("Who is eligible"), "minimum_age": _("Minimum age"),
    "maximum_age": _("Maximum age"), "assured_date": _("Last verified"),
    "assurer_email": _("Verified by"), "alert": _("Alert"), "kind": _("Kind"),
    "gender": _("Gender"), "free": _("Free of charge"),
    "twenty_four_seven": _("Open 24 hours, 7 days"),
    "victim_facing": _("Survivors and families may contact it directly"),
    "source": _("Source"), "source_url": _("Source of these facts (URL)"),
    "source_date": _("Date of the source"), "confidence": _("Confidence"), "notes": _("Notes"),
    "other_channels": _("Other channels"), "hours_text": _("Opening hours as published"),
    "hours_note": _("Note on hours"), "phones": _("Phones"), "schedules": _("Hours"),
    "languages": _("Languages"), "service_areas": _("Service area"),
    "locations": _("Locations"), "service_at_locations": _("Locations"),
    "location": _("Location"), "taxonomy_terms": _("Service types"),
    "attributes": _("Service types"), "taxonomy_term_id": _("Service type"),
    "reason": _("Reason"),
    # inside a phone, schedule, language, area, location or address
    "number": _("Number"), "extension": _("Ext."), "type": _("Type"), "sms": _("Takes SMS"),
    "sms_body": _("SMS keyword"), "tested_on": _("Tested on"), "timezone": _("Time zone"),
    "freq": _("Repeats"), "byday": _("Days"), "opens_at": _("Opens"), "closes_at": _("Closes"),
    "code": _("Code"), "note": _("Note"), "psgc_code": _("Place"), "area_code": _("Place"),
    "location_type": _("Location type"), "latitude": _("Latitude"),
    "longitude": _("Longitude"), "confidential": _("Confidential address"),
    "addresses": _("Addresses"), "attention": _("Attention"),
    "address_1": _("Street address"), "address_2": _("Address line 2"), "city": _("City"),
    "region": _("Region"), "state_province": _("Province"), "postal_code": _("Postal code"),
    "country": _("Country"), "address_type": _("Address type"), "date": _("Date"),
}  # fmt: skip
_SEGMENT = re.compile(r"^(\w+)\[(\d+)\]$")


def field_label(path: str) -> str:
    """A field's name in the viewer's language: "phones[0].number" -> "Phones 1 · Number".
    Unknown names are shown as they are."""
    parts = []
    for segment in str(path).split("."):
        match = _SEGMENT.match(segment)
        key, index = (match.group(1), int(match.group(2))) if match else (segment, None)
        label = str(FIELD_LABELS.get(key, key))
        parts.append(label if index is None else f"{label} {index + 1}")
    return " · ".join(parts)


def problems(form) -> list[tuple[str, str]]:
    """Every message of a form's invalid fields (rows of sub-forms included), in form order, as
    (the field's label, the message), both in the viewer's language."""
    found = []
    for field in form:
        if isinstance(field, FieldList):
            for number, entry in enumerate(field.entries, start=1):
                for label, message in problems(entry.form):
                    found.append((f"{field.label.text} {number} · {label}", message))
        elif isinstance(field, FormField):
            found += [(f"{field.label.text} · {label}", m) for label, m in problems(field.form)]
        else:
            found += [(str(field.label.text), str(message)) for message in field.errors]
    return found


def _text(value) -> str | None:
    value = (value or "").strip() if isinstance(value, str) else value
    return value or None


def _rows(field_list, old_rows: list[dict], convert) -> list[dict]:
    old = {row["id"]: row for row in old_rows}
    out = []
    for entry in field_list.entries:
        data = entry.form.data
        if data.get("remove"):
            continue
        item = convert(data, old.get(data.get("id") or ""))
        if item is not None:
            out.append(item)
    return out


def _phone(data: dict, old: dict | None) -> dict | None:
    if not _text(data["number"]):
        return None
    fields = {
        "number": _text(data["number"]),
        "extension": _text(data["extension"]),
        "type": data["type"] or "voice",
        "description": _text(data["description"]),
        "sms": bool(data["sms"]),
        "sms_body": _text(data["sms_body"]),
        "tested_on": _text(data["tested_on"]),
    }
    if old is not None:
        before = {k: (bool(old.get(k)) if k == "sms" else _text(old.get(k))) for k in fields}
        if before == fields:
            return hsds.phone(old)
        return {"id": old["id"], **fields}
    return fields


def _schedule(data: dict, old: dict | None) -> dict | None:
    fields = {k: _text(data[k]) for k in ("byday", "opens_at", "closes_at", "description")}
    if not any(fields.values()):
        return None
    if old is not None:
        rendered = hsds._pick(old, hsds.SCHEDULE_FIELDS)
        return {**rendered, **fields}
    return fields


def _language(data: dict, old: dict | None) -> dict | None:
    fields = {"code": _text(data["code"]), "note": _text(data["note"])}
    if not fields["code"]:
        return None
    if old is not None:
        return {"id": old["id"], "name": old.get("name"), **fields}
    return fields


def _area(data: dict, old: dict | None) -> dict | None:
    place = _text(data["place"])
    if not place:
        return None
    if old is not None and place == old.get("area_code"):
        return {"id": old["id"], "name": old.get("name"), "psgc_code": place}
    return {"name": place} if not place.isdigit() else {"psgc_code": place}


def _location(data: dict, old: dict | None) -> dict | None:
    place = _text(data["place"])
    address = {k: _text(data[k]) for k in ("address_1", "address_2", "city", "postal_code")}
    if not place and not data.get("name") and not any(address.values()):
        return None
    item = {
        "name": _text(data["name"]),
        "psgc_code": place,
        "confidential": bool(data["confidential"]),
    }
    old_address = ((old or {}).get("addresses") or [{}])[0]
    if old is not None:
        item["id"] = old["id"]
        item["description"] = old.get("description")
        item["location_type"] = old.get("location_type")
        if place == old.get("area_code"):
            item["latitude"], item["longitude"] = old.get("latitude"), old.get("longitude")
    if any(address.values()):
        kept = {k: v for k, v in old_address.items() if k not in ("area_code", "location_id")}
        merged = {**kept, **{k: v or "" for k, v in address.items()}}
        if old_address.get("area_code") and place == (old or {}).get("area_code"):
            merged["psgc_code"] = old_address["area_code"]
        item["addresses"] = [merged] + list(((old or {}).get("addresses") or [])[1:])
    else:
        item["addresses"] = list(((old or {}).get("addresses") or [])[1:])
    return item
