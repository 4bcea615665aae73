"""The bare-Flask limit: one route answering a constant string, served with the same gunicorn settings as the app.

gunicorn -c gunicorn.conf.py bench.hello_app:app
"""

from flask import Flask

app = Flask(__name__)


@app.route("/")
def hello() -> str:
    return "Hello, World!"
