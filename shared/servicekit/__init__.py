"""The small library the three services share: settings, tables, tokens, bodies, HTTP."""
