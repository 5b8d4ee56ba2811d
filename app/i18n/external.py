"""Messages that WTForms and Flask-WTF emit themselves, listed so extraction puts them in our catalogues."""
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
