"""The web client's pages (GET renders, POST takes a form and redirects), rendered on the server so
they work without JavaScript. The routes of each area live in talkshop.web.pages."""

from aws_lambda_powertools.event_handler import Response

from talkshop.api.app import lambda_entrypoint
from talkshop.web.app import create_web_app
from talkshop.web.pages import chat, checkout, dashboards, history, login, store
from talkshop.web.render import redirect

app = create_web_app()
for area in (chat, store, checkout, history, login, dashboards):
    app.include_router(area.router)


@app.get("/")
def home() -> Response[str]:
    return redirect("/chat")


lambda_handler = lambda_entrypoint(app)
