"""The settings page's form: shapes and units (percentages in the page, shares in the model); the rules are
`annotations.assignment.actions.clean_settings`'s."""

from __future__ import annotations

from typing import Any

from django import forms

from annotations.models import AssignmentSettings


def _percent(label: str, maximum: int = 100) -> forms.DecimalField:
    return forms.DecimalField(label=label, min_value=0, max_value=maximum, decimal_places=1, max_digits=4)


class AssignmentSettingsForm(forms.Form):
    overlap_percent = _percent("Overlap sample (% of items)")
    overlap_annotators = forms.IntegerField(
        label="Annotators per overlap item", required=False, min_value=2, help_text="Empty: every annotator."
    )
    per_annotator_cap = forms.IntegerField(
        label="Cap per annotator", required=False, min_value=1, help_text="Empty: no cap."
    )
    check_percent = _percent("Attention checks (% of each queue)", 50)
    check_threshold_percent = _percent("Flag below this check accuracy (%)")
    check_minimum = forms.IntegerField(label="Checks answered before judging", min_value=1)
    pause_on_failed_checks = forms.BooleanField(label="Pause a flagged annotator", required=False)
    qualification_required = forms.BooleanField(label="New annotators qualify first", required=False)
    qualification_size = forms.IntegerField(label="Qualification items per annotator", min_value=1)
    qualification_pass_percent = _percent("Accuracy needed to pass (%)")

    PERCENT_FIELDS = {
        "overlap_percent": "overlap_share",
        "check_percent": "check_share",
        "check_threshold_percent": "check_threshold",
        "qualification_pass_percent": "qualification_pass",
    }

    @classmethod
    def initial_from(cls, settings: AssignmentSettings) -> dict[str, Any]:
        initial: dict[str, Any] = {
            name: getattr(settings, name)
            for name in (
                "overlap_annotators",
                "per_annotator_cap",
                "check_minimum",
                "pause_on_failed_checks",
                "qualification_required",
                "qualification_size",
            )
        }
        for field, name in cls.PERCENT_FIELDS.items():
            initial[field] = round(getattr(settings, name) * 100, 1)
        return initial

    def values(self) -> dict[str, Any]:
        """The cleaned form as the action's settings."""
        data = dict(self.cleaned_data)
        for field, name in self.PERCENT_FIELDS.items():
            data[name] = float(data.pop(field)) / 100
        return data
