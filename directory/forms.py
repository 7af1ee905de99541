"""Flask-WTF forms for sign-in, accounts and editing a service (every field, no JavaScript).

A service form is turned into an HSDS-shaped body and goes through the same parsing and
validation as the JSON API (models.change_requests.parse_service).
"""

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


def choices(pairs) -> list[SelectChoice]:
    """(value, label) pairs as WTForms choices."""
    return [SelectChoice(value, label) for value, label in pairs]


class MultiCheckboxField(SelectMultipleField):
    """A list of checkboxes (works without JavaScript)."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class EmptyForm(FlaskForm):
    """A POST-only button with its CSRF token."""

    submit = SubmitField("Submit")


class LoginForm(FlaskForm):
    """Email and password."""

    email = EmailField("Email", validators=[DataRequired(), Length(max=254)])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=1000)])
    submit = SubmitField("Sign in")


class SetPasswordForm(FlaskForm):
    """A new password, twice (invitation and reset links)."""

    password = PasswordField("New password", validators=[DataRequired(), Length(min=10, max=1000)])
    confirm = PasswordField(
        "New password again", validators=[DataRequired(), EqualTo("password", "Does not match.")]
    )
    submit = SubmitField("Set password")


class ChangePasswordForm(SetPasswordForm):
    """The current password and a new one."""

    current = PasswordField("Current password", validators=[DataRequired(), Length(max=1000)])
    submit = SubmitField("Change password")


class UserForm(FlaskForm):
    """An admin creates an account; the person sets a password through an invitation link."""

    email = EmailField("Email", validators=[DataRequired(), Length(max=254)])
    role = SelectField("Role", choices=choices((r, r) for r in ROLES))
    organizations = MultiCheckboxField("Organisations (editors)", choices=[])
    submit = SubmitField("Create and make an invitation link")


class UserEditForm(FlaskForm):
    """An admin changes a role, organisations or whether the account is active."""

    role = SelectField("Role", choices=choices((r, r) for r in ROLES))
    active = BooleanField("Active")
    organizations = MultiCheckboxField("Organisations (editors)", choices=[])
    submit = SubmitField("Save")


class OrganizationForm(FlaskForm):
    """An organisation's name and contact details (admins)."""

    name = StringField("Name", validators=[DataRequired(), Length(max=300)])
    description = TextAreaField("Description", validators=[Optional(), Length(max=5000)])
    website = StringField("Website", validators=[Optional(), Length(max=2000)])
    email = StringField("Email", validators=[Optional(), Length(max=254)])
    submit = SubmitField("Save")


class RejectForm(FlaskForm):
    """Rejecting a proposal needs a reason its author will read."""

    reason = TextAreaField("Reason", validators=[DataRequired(), Length(max=2000)])
    submit = SubmitField("Reject")


class VerifyForm(FlaskForm):
    """Confirm a listing is still accurate; tick the phones called today."""

    tested = MultiCheckboxField("Phones I called today and reached the service", choices=[])
    submit = SubmitField("Confirm still accurate")


class PhoneForm(Form):
    """One phone number."""

    id = HiddenField()
    number = StringField("Number", validators=[Optional(), Length(max=100)])
    extension = StringField("Ext.", validators=[Optional(), Length(max=40)])
    type = SelectField(
        "Type",
        choices=choices((t, t) for t in ("voice", "cell", "text", "fax", "textphone")),
        default="voice",
    )
    description = StringField("Description", validators=[Optional(), Length(max=500)])
    sms = BooleanField("Takes SMS")
    sms_body = StringField("SMS keyword", validators=[Optional(), Length(max=200)])
    tested_on = StringField("Tested on (YYYY-MM-DD)", validators=[Optional(), Length(max=10)])
    remove = BooleanField("Remove")


class ScheduleForm(Form):
    """Opening hours on some days."""

    id = HiddenField()
    byday = StringField("Days (MO,TU,WE,TH,FR,SA,SU)", validators=[Optional(), Length(max=40)])
    opens_at = StringField("Opens (HH:MM)", validators=[Optional(), Length(max=8)])
    closes_at = StringField("Closes (HH:MM)", validators=[Optional(), Length(max=8)])
    description = StringField("Description", validators=[Optional(), Length(max=500)])
    remove = BooleanField("Remove")


class LanguageForm(Form):
    """A language spoken (ISO 639 code)."""

    id = HiddenField()
    code = StringField("Code (fil, ceb, war, en, ...)", validators=[Optional(), Length(max=20)])
    note = StringField("Note", validators=[Optional(), Length(max=500)])
    remove = BooleanField("Remove")


class AreaForm(Form):
    """A place served: a PSGC code or a place name."""

    id = HiddenField()
    place = StringField("Place (name or PSGC code)", validators=[Optional(), Length(max=200)])
    remove = BooleanField("Remove")


class LocationForm(Form):
    """Where the service is, with its address and whether that address is confidential."""

    id = HiddenField()
    name = StringField("Name", validators=[Optional(), Length(max=300)])
    place = StringField(
        "City or area (name or PSGC code)", validators=[Optional(), Length(max=200)]
    )
    confidential = BooleanField("Confidential address (the public sees only the city)")
    address_1 = StringField("Street address", validators=[Optional(), Length(max=500)])
    address_2 = StringField("Address line 2", validators=[Optional(), Length(max=500)])
    city = StringField("City", validators=[Optional(), Length(max=200)])
    postal_code = StringField("Postal code", validators=[Optional(), Length(max=20)])
    remove = BooleanField("Remove")


YES_NO = [("", "unknown"), ("1", "yes"), ("0", "no")]
TEXT_FIELDS = (
    "name", "alternate_name", "description", "url", "email", "interpretation_services",
    "application_process", "fees_description", "eligibility_description", "alert",
    "other_channels", "hours_text", "hours_note", "notes",
)  # fmt: skip


class ServiceForm(FlaskForm):
    """Every editable field of a service."""

    version = HiddenField()  # the version the form was filled from: checked when saving
    organization_id = SelectField("Organisation", choices=[])
    name = StringField("Name", validators=[DataRequired(), Length(max=300)])
    alternate_name = StringField("Other name", validators=[Optional(), Length(max=300)])
    description = TextAreaField("What the service does", validators=[Optional(), Length(max=5000)])
    status = SelectField(
        "Status",
        choices=choices((s, s) for s in ("active", "inactive", "temporarily closed", "defunct")),
    )
    url = StringField("Website", validators=[Optional(), Length(max=2000)])
    email = StringField("Email", validators=[Optional(), Length(max=254)])
    alert = StringField("Alert shown on the listing", validators=[Optional(), Length(max=1000)])
    eligibility_description = TextAreaField(
        "Who is eligible", validators=[Optional(), Length(max=5000)]
    )
    minimum_age = IntegerField("Minimum age", validators=[Optional()])
    maximum_age = IntegerField("Maximum age", validators=[Optional()])
    gender = SelectField(
        "Gender", choices=choices([("", "anyone"), ("female", "female"), ("male", "male")])
    )
    free = SelectField("Free of charge", choices=choices(YES_NO))
    fees_description = TextAreaField("Fees", validators=[Optional(), Length(max=5000)])
    application_process = TextAreaField(
        "How to be referred / apply", validators=[Optional(), Length(max=5000)]
    )
    interpretation_services = StringField(
        "Interpretation", validators=[Optional(), Length(max=1000)]
    )
    twenty_four_seven = BooleanField("Open 24 hours, 7 days")
    hours_text = StringField(
        "Opening hours as published", validators=[Optional(), Length(max=1000)]
    )
    hours_note = StringField("Note on hours", validators=[Optional(), Length(max=1000)])
    other_channels = TextAreaField(
        "Other channels (chat, web forms, SMS keywords)", validators=[Optional(), Length(max=2000)]
    )
    notes = TextAreaField("Notes", validators=[Optional(), Length(max=5000)])
    kind = StringField(
        "Kind (hotline, residential_centre, ...)", validators=[Optional(), Length(max=100)]
    )
    victim_facing = BooleanField("Survivors and families may contact it directly")
    source_url = StringField(
        "Source of these facts (URL)", validators=[Optional(), Length(max=2000)]
    )
    source_date = StringField("Date of the source", validators=[Optional(), Length(max=100)])
    taxonomy_terms = MultiCheckboxField("Service types", choices=[])
    phones = FieldList(FormField(PhoneForm))
    schedules = FieldList(FormField(ScheduleForm))
    languages = FieldList(FormField(LanguageForm))
    service_areas = FieldList(FormField(AreaForm))
    locations = FieldList(FormField(LocationForm))
    submit = SubmitField("Submit")

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
            for _ in range(BLANK_ROWS):
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
