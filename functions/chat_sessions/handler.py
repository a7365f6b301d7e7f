"""Chat sessions: start a chat, read one with its history, list a shopper's chats, correct what the
advisor inferred, give feedback and delete a chat. A chat is visible only to its shopper's token and the
admin."""

from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Path, Query
from aws_lambda_powertools.event_handler.openapi.types import OpenAPIResponse
from aws_lambda_powertools.metrics import MetricUnit

from talkshop.advisor.chat_api import (
    FeedbackRequest,
    PreferencesView,
    SessionList,
    SessionView,
    StartChatRequest,
    StartedChat,
)
from talkshop.api.app import create_app, error_responses, json_response, lambda_entrypoint, location_of
from talkshop.api.context import caller, chat_sessions
from talkshop.api.idempotency import once_per_key
from talkshop.api.observability import metrics
from talkshop.ontology.model import Identifier

app = create_app()

SessionId = Annotated[Identifier, Path()]
# The answer of the routes that change a chat: the chat, or a refusal.
_CHAT_CHANGED: dict[int, OpenAPIResponse] = {
    200: {"description": "The chat"},
    **error_responses(400, 401, 404, 409, 415, 422),
}


@app.post(
    "/api/chat/session",
    summary="Start a chat",
    description="With a shopper token: a chat for that shopper. With the admin key: a chat for any userId "
    "(a platform acting for its user). With no credentials: a chat for a new shopper, whose token is in "
    "the answer once (shopperToken). Idempotency-Key: a retry gets the first answer, without the token.",
    tags=["chat"],
    responses={201: {"description": "The new chat"}, **error_responses(400, 401, 403, 409, 415, 422)},
)
def start_chat(request: StartChatRequest) -> Response[StartedChat]:
    principal = caller(app)

    def handle() -> Response[StartedChat]:
        started = chat_sessions().start(request, principal)
        metrics.add_metric(name="ChatsStarted", unit=MetricUnit.Count, value=1)
        return json_response(started, status=201, headers={"Location": location_of(app, started.id)})

    return once_per_key(app, "start_chat", principal, request, handle, shown_once=("shopperToken",))


@app.get(
    "/api/chat/session/<id>",
    summary="Read a chat with its full history",
    tags=["chat"],
    responses={200: {"description": "The chat"}, **error_responses(401, 404, 422)},
)
def read_chat(id: SessionId) -> Response[SessionView]:
    return json_response(SessionView.of(chat_sessions().get(id, caller(app))))


@app.delete(
    "/api/chat/session/<id>",
    summary="Delete a chat for good",
    description="Removes the chat from storage: its messages, events, recommendations and their edges, and "
    "the code it offered. The shopper's orders stay (without message text), and so does what the advisor "
    "remembers of the shopper across chats. For the chat's shopper and the admin; to anyone else the chat "
    "does not exist (404).",
    tags=["chat"],
    responses={204: {"description": "Deleted"}, **error_responses(401, 404, 409, 422)},
)
def delete_chat(id: SessionId) -> Response[None]:
    chat_sessions().delete(id, caller(app))
    metrics.add_metric(name="ChatsDeleted", unit=MetricUnit.Count, value=1)
    return Response(status_code=204)


@app.get(
    "/api/chat/sessions",
    summary="List a shopper's chats, newest first",
    tags=["chat"],
    responses={200: {"description": "A page of chats"}, **error_responses(400, 401, 403, 422)},
)
def list_chats(
    user: Annotated[Identifier | None, Query(description="Default: the shopper of the token")] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    cursor: Annotated[str | None, Query(max_length=2000)] = None,
) -> Response[SessionList]:
    return json_response(chat_sessions().list_sessions(user, caller(app), limit=limit, cursor=cursor))


@app.put(
    "/api/chat/session/<id>/preferences",
    summary="Correct the preferences the advisor inferred",
    tags=["chat"],
    responses=_CHAT_CHANGED,
)
def correct_preferences(id: SessionId, preferences: PreferencesView) -> Response[SessionView]:
    session = chat_sessions().correct_preferences(id, preferences.to_preferences(), caller(app))
    return json_response(SessionView.of(session))


@app.post(
    "/api/chat/session/<id>/feedback",
    summary="Rate the chat (this ends it) and react to its recommendations",
    tags=["chat"],
    responses=_CHAT_CHANGED,
)
def give_feedback(id: SessionId, feedback: FeedbackRequest) -> Response[SessionView]:
    session = chat_sessions().give_feedback(id, feedback, caller(app))
    metrics.add_metric(name="ChatFeedback", unit=MetricUnit.Count, value=1)
    return json_response(SessionView.of(session))


lambda_handler = lambda_entrypoint(app)
