"""Messages that WTForms, Flask-WTF and Flask-AppBuilder emit themselves without a Chinese translation,
listed so extraction puts them in our catalogues."""
from flask_babel import lazy_gettext as _l

WTFORMS_MESSAGES = (
    _l("Not a valid integer value."),
    _l("Not a valid decimal value."),
    _l("Not a valid float value."),
    _l("Not a valid date value."),
    _l("Not a valid datetime value."),
    _l("Not a valid choice."),
    _l("Invalid Choice: could not coerce."),
    _l("This field is required."),
    _l("The CSRF token is missing."),
    _l("The CSRF token is invalid."),
    _l("The CSRF token has expired."),
    _l("The CSRF tokens do not match."),
)

FAB_MESSAGES = (
    _l("Cancel"), _l("OK"), _l("Database Error"), _l("Either select a role or a group"), _l("List Groups"),
    _l("Edit User Information"), _l("User information changed"), _l("Groups"),
    _l("The user's password for authentication"), _l("User(s) exists in the role, cannot delete"),
    _l("Show Group"), _l("Add Group"), _l("Edit Group"), _l("User(s) exists in the group, cannot delete"),
    _l("Are you sure you want to delete this item?"), _l("Contains (insensitive)"), _l("In"), _l("Not In"),
)
