"""A validation error's detail (DRF's nested dicts and lists) as one line naming each field: the API's
`errorMessage` and the web forms' messages read the same."""


def field_errors(detail, prefix="") -> list[tuple[str, str]]:
    """(field, message) for each error of the detail; field is "" for an error of the whole input. The v7 API's
    validation errors list these; the v6 `errorMessage` joins them into one line."""
    if isinstance(detail, dict):
        out = []
        for key, value in detail.items():
            name = f"{prefix}.{key}" if prefix else str(key)
            if key == "non_field_errors":
                name = prefix
            out.extend(field_errors(value, name))
        return out
    if isinstance(detail, list):
        out = []
        for i, value in enumerate(detail):
            name = f"{prefix}[{i}]" if isinstance(value, dict) else prefix
            out.extend(field_errors(value, name))
        return out
    return [(prefix, str(detail))]


def message_of(detail) -> str:
    return "; ".join(f"{name}: {text}" if name else text for name, text in field_errors(detail)) or "Bad request"
