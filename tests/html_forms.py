"""Read the forms of a rendered page and fill them as a person would.

The bad-input guards (tests/test_bad_input.py) find every form by rendering every page of
the scoping matrix, so a form added later is probed without anyone listing it. A form is
read from the HTML the browser would get: its action and method (``hx-post``/``hx-get``
included), every control and its current value. ``filled()`` answers the data a person
would send after filling in the empty controls with ordinary values.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

TEXT_KINDS = {"text", "search", "textarea", "email", "url", "tel", "password"}
# Ordinary values for an empty control, by kind: what a careful person would type.
ORDINARY = {
    "text": "Probe",
    "search": "Probe",
    "textarea": "Probe one\nProbe two",
    "email": "probe@example.org",
    "url": "https://example.org/probe",
    "tel": "555 0100",
    "password": "Probe-passw0rd-long",
    "number": "1",
    "time": "09:00",
    "datetime-local": "",  # filled with today below
    "date": "",  # filled with today below
}


@dataclass
class Control:
    name: str
    kind: str  # an input type, "select", "textarea"
    value: str = ""
    checked: bool = False
    required: bool = False
    multiple: bool = False
    options: list[tuple[str, bool]] = field(default_factory=list)  # (value, selected)
    attrs: dict = field(default_factory=dict)


@dataclass
class Form:
    action: str
    method: str
    controls: list[Control] = field(default_factory=list)
    buttons: list[tuple[str, str]] = field(default_factory=list)  # named submit buttons
    multipart: bool = False

    @property
    def names(self) -> list[str]:
        return list(dict.fromkeys(c.name for c in self.controls))

    def controls_named(self, name: str) -> list[Control]:
        return [c for c in self.controls if c.name == name]

    def kind_of(self, name: str) -> str:
        controls = self.controls_named(name)
        return controls[0].kind if controls else ""

    def signature(self) -> tuple:
        """What the form is, whatever its current values: where it goes and what it asks."""
        return (self.method, urlsplit(self.action).path, tuple(sorted(self.names)))

    def filled(self, today: date | None = None) -> dict[str, list[str]]:
        """The data a person sends: current values, empty controls given ordinary values."""
        today = today or date.today()
        data: dict[str, list[str]] = {}
        for name in self.names:
            controls = self.controls_named(name)
            kind = controls[0].kind
            if kind == "file":
                continue
            if kind == "checkbox":
                ticked = [c.value or "on" for c in controls if c.checked]
                if not ticked and len(controls) > 1:
                    ticked = [controls[0].value or "on"]  # a group asks for one at least
                if ticked:
                    data[name] = ticked
                continue
            if kind == "radio":
                chosen = [c.value for c in controls if c.checked]
                if not chosen and any(c.required for c in controls):
                    chosen = [controls[0].value]
                if chosen:
                    data[name] = chosen[:1]
                continue
            control = controls[0]
            if kind == "select":
                picked = [v for v, selected in control.options if selected]
                if not picked and not control.multiple and control.options:
                    picked = [control.options[0][0]]  # what a browser sends
                if control.required and not any(picked):
                    picked = [v for v, _s in control.options if v][:1] or picked
                data[name] = picked
                continue
            value = control.value
            if not value and control.attrs.get("role") == "combobox":
                # A type-ahead (schools/typeahead.py): a person picks from its list or
                # leaves it empty; ordinary text in it names nothing the form knows.
                data[name] = [value]
                continue
            if not value and kind not in ("hidden", "submit"):
                if kind == "date":
                    value = today.isoformat()
                elif kind == "datetime-local":
                    value = f"{today.isoformat()}T09:00"
                elif kind == "number":
                    value = control.attrs.get("min") or ORDINARY["number"]
                else:
                    value = ORDINARY.get(kind, "")
            data[name] = [value]
        if self.buttons:
            # Pressing Enter submits with the first button, as a browser does.
            button, value = self.buttons[0]
            data.setdefault(button, [value])
        return data


class _Parser(HTMLParser):
    def __init__(self, base: str):
        super().__init__(convert_charrefs=True)
        self.base = base
        self.forms: list[Form] = []
        self.by_id: dict[str, Form] = {}
        self.current: Form | None = None
        self.select: Control | None = None
        self.option: list | None = None  # [value or None, selected, text]
        self.textarea: Control | None = None
        self.loose: list[tuple[str, Control]] = []  # controls with form="id" outside it

    def _form_for(self, attrs: dict) -> Form | None:
        if attrs.get("form"):
            return self.by_id.get(attrs["form"])
        return self.current

    def handle_starttag(self, tag, attrs_list):
        attrs = {k: (v if v is not None else "") for k, v in attrs_list}
        if tag == "form":
            method = (attrs.get("method") or "get").lower()
            action = attrs.get("action") or ""
            if "hx-post" in attrs:
                method, action = "post", attrs["hx-post"]
            elif "hx-get" in attrs and not attrs.get("action"):
                method, action = "get", attrs["hx-get"]
            form = Form(
                action=urljoin(self.base, action) if action else self.base,
                method=method,
                multipart="multipart" in attrs.get("enctype", ""),
            )
            self.forms.append(form)
            if attrs.get("id"):
                self.by_id[attrs["id"]] = form
            self.current = form
            return
        if "disabled" in attrs:
            return
        form = self._form_for(attrs)
        if form is None or not attrs.get("name") and tag != "option":
            return
        name = attrs.get("name", "")
        if tag == "input":
            kind = (attrs.get("type") or "text").lower()
            if kind in ("submit", "image", "button", "reset"):
                if kind == "submit" and name:
                    form.buttons.append((name, attrs.get("value", "")))
                return
            form.controls.append(
                Control(
                    name=name,
                    kind=kind,
                    value=attrs.get("value", "on" if kind in ("checkbox", "radio") else ""),
                    checked="checked" in attrs,
                    required="required" in attrs,
                    attrs=attrs,
                )
            )
        elif tag == "button":
            if (attrs.get("type") or "submit").lower() == "submit":
                form.buttons.append((name, attrs.get("value", "")))
        elif tag == "select":
            self.select = Control(
                name=name,
                kind="select",
                required="required" in attrs,
                multiple="multiple" in attrs,
                attrs=attrs,
            )
            form.controls.append(self.select)
        elif tag == "option" and self.select is not None:
            self.option = [attrs.get("value"), "selected" in attrs, ""]
        elif tag == "textarea":
            self.textarea = Control(
                name=name, kind="textarea", required="required" in attrs, attrs=attrs
            )
            form.controls.append(self.textarea)

    def handle_data(self, data):
        if self.option is not None:
            self.option[2] += data
        elif self.textarea is not None:
            self.textarea.value += data

    def handle_endtag(self, tag):
        if tag == "form":
            self.current = None
        elif tag == "option" and self.option is not None:
            value, selected, text = self.option
            self.select.options.append((text.strip() if value is None else value, selected))
            self.option = None
        elif tag == "select":
            if self.option is not None:
                self.handle_endtag("option")
            self.select = None
        elif tag == "textarea" and self.textarea is not None:
            # The browser drops one leading newline of a textarea's content.
            if self.textarea.value.startswith("\n"):
                self.textarea.value = self.textarea.value[1:]
            self.textarea = None


def forms_of(html: str, url: str) -> list[Form]:
    """The forms of a page served at ``url`` (a path), with absolute-path actions."""
    parser = _Parser(url)
    parser.feed(html)
    parser.close()
    for form in parser.forms:
        parts = urlsplit(form.action)
        form.action = parts.path + (f"?{parts.query}" if parts.query else "")
    return parser.forms
