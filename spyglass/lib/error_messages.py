"""A validation error's detail (DRF's nested dicts and lists) as one line naming each field: the API's
`errorMessage` and the web forms' messages read the same."""


def _flatten(detail, prefix="") -> list[str]:
    if isinstance(detail, dict):
        out = []
        for key, value in detail.items():
            name = f"{prefix}.{key}" if prefix else str(key)
            if key == "non_field_errors":
                name = prefix
            out.extend(_flatten(value, name))
        return out
    if isinstance(detail, list):
        out = []
        for i, value in enumerate(detail):
            name = f"{prefix}[{i}]" if isinstance(value, dict) else prefix
            out.extend(_flatten(value, name))
        return out
    text = str(detail)
    return [f"{prefix}: {text}" if prefix else text]


def message_of(detail) -> str:
    return "; ".join(_flatten(detail)) or "Bad request"
