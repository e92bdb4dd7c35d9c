"""The location service."""

from chalice import Chalice

from servicekit.openapi import document, documented

app = Chalice(app_name="location-service")


@app.route("/health", methods=["GET"])
@documented("Liveness", responses={200: None})
def health() -> dict:
    return {"status": "ok", "service": "location"}


@app.route("/openapi.json", methods=["GET"])
@documented("This document", responses={200: "application/json"})
def openapi() -> dict:
    return document(app, title="location-service", version="1.0.0")
