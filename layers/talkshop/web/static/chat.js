// The chat page, enhanced: the same forms that work without JavaScript, sent with fetch and the
// answer streamed. A first message starts the chat with POST /chat/new (JSON; the response sets the
// shopper cookie), the answer streams from POST /api/chat/message/stream (server-sent events read
// from the fetch body: delta, reply, done), and then the server's own rendering of the answer (its
// cards, recommendations and comparison) replaces the streamed bubble: GET /chat?fragment=latest.
// Text is formatted by renderRichText, which builds DOM nodes (never innerHTML with data).

const STREAM_URL = "/api/chat/message/stream";
const AT_BOTTOM_PX = 48;

// Formatting: the rules of talkshop/web/text.py (format_message), as DOM nodes.

const LINK = /\[([^\]\n]{1,300})\]\(([^)\s]{1,2000})\)|(https?:\/\/[^\s<>()[\]"']*[^\s<>()[\]"'.,;:!?])/g;
const BOLD = /\*\*(?=\S)(.+?)(?<=\S)\*\*/g;
const BULLET = /^\s*[-*•]\s+(.*)$/;
const NUMBERED = /^\s*\d{1,3}[.)]\s+(.*)$/;

export function safeLinkTarget(target) {
  const lowered = target.toLowerCase();
  if (lowered.startsWith("http://") || lowered.startsWith("https://")) return true;
  return target.startsWith("/") && !target.startsWith("//");
}

function appendBold(parent, text) {
  let position = 0;
  for (const match of text.matchAll(BOLD)) {
    parent.append(text.slice(position, match.index));
    const strong = document.createElement("strong");
    strong.textContent = match[1];
    parent.append(strong);
    position = match.index + match[0].length;
  }
  parent.append(text.slice(position));
}

function appendInline(parent, text) {
  let position = 0;
  for (const match of text.matchAll(LINK)) {
    appendBold(parent, text.slice(position, match.index));
    const target = match[2] ?? match[3];
    const label = match[1] ?? match[3];
    if (safeLinkTarget(target)) {
      const link = document.createElement("a");
      link.setAttribute("href", target);
      link.textContent = label;
      if (!target.startsWith("/")) {
        link.target = "_blank";
        link.rel = "noopener";
      }
      parent.append(link);
    } else {
      appendBold(parent, match[0]); // shown as the text it is, not a link
    }
    position = match.index + match[0].length;
  }
  appendBold(parent, text.slice(position));
}

function listItem(line) {
  const bullet = BULLET.exec(line);
  if (bullet) return ["ul", bullet[1]];
  const numbered = NUMBERED.exec(line);
  return numbered ? ["ol", numbered[1]] : null;
}

function appendBlock(parent, lines) {
  let textLines = [];
  let items = [];
  let listTag = "";
  const flush = () => {
    if (textLines.length) {
      const paragraph = document.createElement("p");
      textLines.forEach((line, index) => {
        if (index) paragraph.append(document.createElement("br"));
        appendInline(paragraph, line);
      });
      parent.append(paragraph);
      textLines = [];
    }
    if (items.length) {
      const list = document.createElement(listTag);
      for (const item of items) {
        const entry = document.createElement("li");
        appendInline(entry, item);
        list.append(entry);
      }
      parent.append(list);
      items = [];
    }
  };
  for (const line of lines) {
    const item = listItem(line);
    if (item === null) {
      if (items.length) flush();
      textLines.push(line.trim());
    } else {
      if (textLines.length || (items.length && item[0] !== listTag)) flush();
      listTag = item[0];
      items.push(item[1]);
    }
  }
  flush();
}

/** A message's text as a DocumentFragment: **bold**, line breaks, lists and safe links. */
export function renderRichText(text) {
  const fragment = document.createDocumentFragment();
  const paragraphs = text.replaceAll("\r\n", "\n").trim().split(/\n\s*\n/);
  for (const paragraph of paragraphs) {
    if (paragraph.trim()) appendBlock(fragment, paragraph.split("\n"));
  }
  return fragment;
}

// Server-sent events over a fetch body.

function parseEvent(block) {
  let name = "message";
  let data = "";
  for (const line of block.split("\n")) {
    if (line.startsWith("event: ")) name = line.slice(7);
    else if (line.startsWith("data: ")) data += line.slice(6);
  }
  return { name, data: data ? JSON.parse(data) : null };
}

async function* serverSentEvents(response) {
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let buffered = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buffered += decoder.decode(value, { stream: true });
    let end;
    while ((end = buffered.indexOf("\n\n")) >= 0) {
      yield parseEvent(buffered.slice(0, end));
      buffered = buffered.slice(end + 2);
    }
  }
  if (buffered.trim()) yield parseEvent(buffered);
}

async function refusal(response) {
  try {
    const body = await response.json();
    return new Error(body.error?.message ?? `The shop answered ${response.status}.`);
  } catch {
    return new Error(`The shop answered ${response.status}.`);
  }
}

function newMessageId() {
  const bytes = crypto.getRandomValues(new Uint8Array(12));
  return "js-" + Array.from(bytes, (byte) => byte.toString(16).padStart(2, "0")).join("");
}

function parseHtml(html) {
  // Our own server-rendered, escaped HTML; a parsed document runs no scripts (and the CSP allows none).
  return new DOMParser().parseFromString(html, "text/html");
}

class ChatPage {
  constructor(chat) {
    this.chat = chat;
    this.sessionId = chat.dataset.sessionId || null;
    this.list = chat.querySelector("[data-messages]");
    this.latest = chat.querySelector("[data-latest]");
    this.announcer = chat.querySelector("[data-announcer]");
    this.errorBox = chat.querySelector("[data-chat-error]");
    this.newMessages = chat.querySelector("[data-new-messages]");
    this.composer = chat.querySelector(".composer");
    this.textarea = this.composer.querySelector("textarea");
    this.busy = false;
  }

  start() {
    this.list.scrollTop = this.list.scrollHeight;
    for (const form of this.chat.querySelectorAll("[data-chat-form]")) {
      form.addEventListener("submit", (event) => {
        event.preventDefault();
        const submitter = event.submitter;
        const text = submitter?.name === "message" ? submitter.value : this.textarea.value;
        if (text.trim()) this.send(text.trim(), form === this.composer);
      });
    }
    this.textarea.addEventListener("keydown", (event) => {
      if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
        event.preventDefault();
        this.composer.requestSubmit();
      }
    });
    this.list.addEventListener("scroll", () => {
      if (this.atBottom()) this.newMessages.hidden = true;
    });
    this.newMessages.addEventListener("click", () => {
      this.scrollToBottom();
      this.list.focus();
    });
    document.addEventListener("submit", (event) => {
      if (event.target.matches("[data-preferences-form]")) {
        event.preventDefault();
        this.changePreferences(event.target);
      }
    });
  }

  atBottom() {
    return this.list.scrollHeight - this.list.scrollTop - this.list.clientHeight < AT_BOTTOM_PX;
  }

  scrollToBottom() {
    this.list.scrollTop = this.list.scrollHeight;
    this.newMessages.hidden = true;
  }

  /** Adds to the conversation without taking the view from a shopper who scrolled up to read. */
  append(node, { follow = false } = {}) {
    const stay = follow || this.atBottom();
    this.latest.before(node);
    this.keepInView(stay);
  }

  keepInView(stay) {
    if (stay) this.scrollToBottom();
    else this.newMessages.hidden = false;
  }

  message(role, content) {
    const article = document.createElement("article");
    article.className = `message ${role}`;
    article.dataset.message = "";
    const said = document.createElement("p");
    said.className = "visually-hidden";
    said.textContent = role === "user" ? "You said:" : "The advisor said:";
    const bubble = document.createElement("div");
    bubble.className = "bubble";
    bubble.append(content);
    article.append(said, bubble);
    return { article, bubble };
  }

  typingIndicator() {
    const typing = document.createElement("span");
    typing.className = "typing";
    const label = document.createElement("span");
    label.className = "visually-hidden";
    label.textContent = "The advisor is typing";
    typing.append(label);
    for (let dot = 0; dot < 3; dot += 1) typing.append(document.createElement("span"));
    return typing;
  }

  setBusy(busy) {
    this.busy = busy;
    for (const button of this.chat.querySelectorAll("[data-chat-form] button")) button.disabled = busy;
    this.composer.setAttribute("aria-busy", String(busy));
  }

  showError(message) {
    this.errorBox.textContent = message;
    this.errorBox.hidden = false;
  }

  async send(text, fromComposer) {
    if (this.busy) return;
    this.setBusy(true);
    this.errorBox.hidden = true;
    this.chat.querySelector(".examples")?.remove();
    if (fromComposer) this.textarea.value = "";
    this.append(this.message("user", renderRichText(text)).article, { follow: true });
    const answer = this.message("assistant", this.typingIndicator());
    answer.article.setAttribute("aria-busy", "true");
    this.append(answer.article, { follow: true });
    try {
      if (!this.sessionId) await this.startChat();
      const reply = await this.stream(text, answer.bubble);
      await this.showServerRendering(answer.article);
      this.announcer.textContent = `The advisor said: ${reply.response}`;
    } catch (error) {
      answer.article.remove();
      if (fromComposer && !this.textarea.value) this.textarea.value = text;
      this.showError(`${error.message} Your message was not answered; please try again.`);
    } finally {
      this.setBusy(false);
    }
  }

  async startChat() {
    const response = await fetch("/chat/new", {
      method: "POST",
      headers: { Accept: "application/json" },
      credentials: "same-origin",
    });
    if (!response.ok) throw await refusal(response);
    this.sessionId = (await response.json()).sessionId;
    this.chat.dataset.sessionId = this.sessionId;
    for (const field of document.querySelectorAll('input[name="sessionId"]')) field.value = this.sessionId;
    history.replaceState(null, "", `/chat?session=${encodeURIComponent(this.sessionId)}`);
  }

  async stream(text, bubble) {
    const response = await fetch(STREAM_URL, {
      method: "POST",
      headers: {
        "Content-Type": "application/json",
        Accept: "text/event-stream",
        "Idempotency-Key": newMessageId(),
      },
      credentials: "same-origin",
      body: JSON.stringify({ sessionId: this.sessionId, message: text }),
    });
    if (!response.ok) throw await refusal(response);
    let written = "";
    let reply = null;
    for await (const event of serverSentEvents(response)) {
      if (event.name === "delta") {
        const stay = this.atBottom();
        written += event.data.text;
        bubble.replaceChildren(renderRichText(written), this.typingIndicator());
        this.keepInView(stay);
      } else if (event.name === "reply") {
        reply = event.data;
      }
    }
    if (reply === null) throw new Error("The answer was cut off.");
    bubble.replaceChildren(renderRichText(reply.response));
    return reply;
  }

  /** The answer as the page renders it (cards from the catalog's data), and the updated preferences. */
  async showServerRendering(streamed) {
    const url = `/chat?session=${encodeURIComponent(this.sessionId)}&fragment=latest`;
    const response = await fetch(url, { credentials: "same-origin" });
    const rendered = response.ok ? parseHtml(await response.text()) : null;
    const message = rendered?.querySelector("[data-message]");
    const preferences = rendered?.querySelector("[data-preferences]");
    const current = document.querySelector("[data-preferences]");
    if (preferences && current) current.replaceWith(document.adoptNode(preferences));
    const stay = this.atBottom();
    // Without the rendering the streamed text stays (a reload shows the cards); either way the
    // answer is complete when it is no longer busy.
    if (message) streamed.replaceWith(document.adoptNode(message));
    else streamed.removeAttribute("aria-busy");
    this.keepInView(stay);
  }

  async changePreferences(form) {
    if (this.busy) return;
    // getAttribute: the form's "action" field shadows the form.action property.
    const response = await fetch(form.getAttribute("action"), {
      method: "POST",
      headers: { Accept: "application/json" },
      credentials: "same-origin",
      body: new URLSearchParams(new FormData(form)),
    });
    if (!response.ok) {
      this.showError((await refusal(response)).message);
      return;
    }
    const { message } = await response.json();
    if (message) await this.send(message, false);
  }
}

// Product details in a dialog (the link still opens the page without JavaScript).

function setUpDetailsDialog() {
  const dialog = document.querySelector("[data-product-dialog]");
  if (!dialog) return;
  const body = dialog.querySelector("[data-dialog-body]");
  document.addEventListener("click", async (event) => {
    const link = event.target.closest("a[data-details]");
    if (!link || event.ctrlKey || event.metaKey || event.shiftKey) return;
    event.preventDefault();
    const url = new URL(link.href);
    url.searchParams.set("fragment", "1");
    const response = await fetch(url, { credentials: "same-origin" });
    if (!response.ok) {
      window.location.href = link.href;
      return;
    }
    const details = parseHtml(await response.text()).body;
    body.replaceChildren(...Array.from(details.childNodes, (node) => document.adoptNode(node)));
    dialog.showModal();
  });
  dialog.addEventListener("close", () => body.replaceChildren());
}

export function start() {
  setUpDetailsDialog();
  const chat = document.querySelector("[data-chat]");
  if (chat) new ChatPage(chat).start();
}
