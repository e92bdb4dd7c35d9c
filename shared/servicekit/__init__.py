"""The small library the three services share: environment, tables, tokens, bodies, HTTP."""
