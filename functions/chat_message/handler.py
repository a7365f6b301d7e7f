"""POST /api/chat/message and /api/chat/message/stream: the advisor answers a shopper's message.

The stream is server-sent events: `delta` events with pieces of the text as the engine writes them,
then `reply` with the whole answer (as POST /api/chat/message gives it), then `done`. Lambda behind a
REST API buffers a response, so on AWS the events arrive together at the end; the format is the same
one a streaming transport delivers piece by piece, so clients need not change. Errors (refused
input, someone else's chat, a concurrent change) are ordinary JSON answers, not events.

A retry is safe with a client message id (`clientMessageId` in the body or the `Idempotency-Key`
header): a message this chat has recorded under that id is answered again from the record (on the
stream: its whole text as one `delta`, then `reply`, then `done`), never turned into a second turn.
"""

import json
from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Header
from aws_lambda_powertools.metrics import MetricUnit

from talkshop.advisor.chat_api import CLIENT_MESSAGE_ID_PATTERN, ChatMessageRequest, ChatReply
from talkshop.api.app import create_app, error_responses, json_response, lambda_entrypoint
from talkshop.api.context import caller, chat_service
from talkshop.api.observability import metrics

app = create_app()

_REFUSALS = error_responses(400, 401, 403, 404, 409, 413, 415, 422)


def _server_sent_event(name: str, data: str) -> str:
    return f"event: {name}\ndata: {data}\n\n"


IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        pattern=CLIENT_MESSAGE_ID_PATTERN,
        description="The same as clientMessageId (send one of them, or both equal)",
    ),
]


def _count(reply: ChatReply) -> None:
    metrics.add_metric(name="ChatMessages", unit=MetricUnit.Count, value=1)
    metrics.add_metric(name="ProductsRecommended", unit=MetricUnit.Count, value=len(reply.recommendations))
    metrics.add_metric(name="ChatCostUsd", unit=MetricUnit.Count, value=reply.usage.cost_usd)


@app.post(
    "/api/chat/message",
    summary="Send a message to the advisor",
    tags=["chat"],
    responses={200: {"description": "The advisor's answer"}, **_REFUSALS},
)
def send_message(request: ChatMessageRequest, idempotency_key: IdempotencyKey = None) -> Response[ChatReply]:
    answer = chat_service().begin_turn(request.with_idempotency_key(idempotency_key), caller(app))
    reply = answer.reply()
    if not answer.replayed:
        _count(reply)
    return json_response(reply)


@app.post(
    "/api/chat/message/stream",
    summary="Send a message; the answer as server-sent events",
    description='`event: delta` (data {"text"}) per piece of text, then `event: reply` (data: the '
    "answer of POST /api/chat/message), then `event: done`.",
    tags=["chat"],
    responses={
        200: {"description": "text/event-stream", "content": {"text/event-stream": {}}},
        **_REFUSALS,
    },
)
def stream_message(request: ChatMessageRequest, idempotency_key: IdempotencyKey = None) -> Response[str]:
    answer = chat_service().begin_turn(request.with_idempotency_key(idempotency_key), caller(app))
    events = []
    for event in answer.events():
        if isinstance(event, ChatReply):
            if not answer.replayed:
                _count(event)
            events.append(_server_sent_event("reply", event.model_dump_json(by_alias=True)))
        else:
            events.append(_server_sent_event("delta", json.dumps({"text": event.text})))
    events.append(_server_sent_event("done", "{}"))
    return Response(
        status_code=200,
        content_type="text/event-stream",
        body="".join(events),
        headers={"Cache-Control": "no-cache"},
    )


lambda_handler = lambda_entrypoint(app)
