"""The hello-world baseline of ``bench/shop_pages.py``: the least a Flask app can do per
request, served with the same gunicorn settings as the shop (``hello_app:app``)."""

from flask import Flask

app = Flask(__name__)


@app.get("/")
def hello() -> str:
    return "Hello, World!"
