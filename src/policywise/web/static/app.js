/* PolicyWise chat page. No dependencies, no build step.
 * Every piece of data reaches the DOM through textContent or setAttribute, never innerHTML. */
(function () {
  "use strict";

  var STATES = ["answered", "insufficient_evidence", "out_of_scope", "refused"];
  var SVG_NS = "http://www.w3.org/2000/svg";
  var ICONS = {
    up: "M2 21h3V9H2v12Zm20-11a2 2 0 0 0-2-2h-6.3l1-4.6v-.3c0-.4-.2-.8-.4-1.1L13.2 1 6.6 7.6C6.2 8 6 8.5 6 9v10a2 2 0 0 0 2 2h9c.8 0 1.5-.5 1.8-1.2l3-7.1.2-.7v-2Z",
    down: "M22 3h-3v12h3V3ZM2 14a2 2 0 0 0 2 2h6.3l-1 4.6v.3c0 .4.2.8.4 1.1l1.1 1 6.6-6.6c.4-.4.6-.9.6-1.4V5a2 2 0 0 0-2-2H7c-.8 0-1.5.5-1.8 1.2l-3 7.1L2 12v2Z",
    open: "M14 3v2h3.6l-9.8 9.8 1.4 1.4L19 6.4V10h2V3h-7ZM19 19H5V5h7V3H5a2 2 0 0 0-2 2v14c0 1.1.9 2 2 2h14a2 2 0 0 0 2-2v-7h-2v7Z",
    notFound: "M15.5 14h-.8l-.3-.3A6.5 6.5 0 1 0 9.5 16c1.6 0 3.1-.6 4.2-1.6l.3.3v.8l5 5 1.5-1.5-5-5Zm-6 0a4.5 4.5 0 1 1 0-9 4.5 4.5 0 0 1 0 9Z",
    scope: "M12 2a10 10 0 1 0 0 20 10 10 0 0 0 0-20Zm1 15h-2v-2h2v2Zm0-4h-2V7h2v6Z",
    refused: "M12 2a10 10 0 1 0 0 20 10 10 0 0 0 0-20ZM4 12c0-4.4 3.6-8 8-8 1.8 0 3.5.6 4.9 1.7L5.7 16.9A8 8 0 0 1 4 12Zm8 8c-1.8 0-3.5-.6-4.9-1.7L18.3 7.1A8 8 0 0 1 12 20Z",
    error: "M1 21h22L12 2 1 21Zm12-3h-2v-2h2v2Zm0-4h-2v-4h2v4Z",
    clock: "M12 2a10 10 0 1 0 0 20 10 10 0 0 0 0-20Zm0 18a8 8 0 1 1 0-16 8 8 0 0 1 0 16Zm.5-13H11v6l5.2 3.2.8-1.3-4.5-2.7V7Z",
    info: "M11 7h2v2h-2V7Zm0 4h2v6h-2v-6Zm1-9a10 10 0 1 0 0 20 10 10 0 0 0 0-20Zm0 18a8 8 0 1 1 0-16 8 8 0 0 1 0 16Z",
  };

  // Plain-words explanations of Answer.degraded_reason codes (the cause; the consequence is added).
  var DEGRADED_CAUSES = {
    llm_timeout: "the AI model took too long",
    llm_deadline: "the AI model ran out of time",
    llm_rate_limited: "the AI model is busy",
    llm_server_error: "the AI model service had an error",
    llm_connection: "the AI model service could not be reached",
    llm_bad_response: "the AI model sent an unusable reply",
    llm_client_error: "the AI model rejected the request",
    llm_circuit_open: "the AI model is paused after repeated failures",
    llm_not_covered: "the AI model found no support for an answer in the policies",
  };

  var form, input, sendBtn, log, welcome, newChatBtn;
  var conversationId = null;
  var busy = false;
  var viewSeq = 0;

  // ---------------------------------------------------------------------------- DOM helpers

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  function icon(name, size) {
    var svg = document.createElementNS(SVG_NS, "svg");
    var s = String(size || 18);
    svg.setAttribute("viewBox", "0 0 24 24");
    svg.setAttribute("width", s);
    svg.setAttribute("height", s);
    svg.setAttribute("aria-hidden", "true");
    svg.setAttribute("focusable", "false");
    svg.setAttribute("class", "icon");
    var path = document.createElementNS(SVG_NS, "path");
    path.setAttribute("fill", "currentColor");
    path.setAttribute("d", ICONS[name]);
    svg.appendChild(path);
    return svg;
  }

  function button(className, label) {
    var b = el("button", className, label);
    b.type = "button";
    return b;
  }

  function visuallyHidden(text) {
    return el("span", "visually-hidden", text);
  }

  function nearBottom() {
    var doc = document.documentElement;
    return window.innerHeight + window.scrollY >= doc.scrollHeight - 160;
  }

  function scrollToEnd(force) {
    if (force || nearBottom()) window.scrollTo(0, document.documentElement.scrollHeight);
  }

  function safeUrl(url) {
    try {
      var u = new URL(String(url || ""), window.location.origin);
      if (u.origin !== window.location.origin) return null;
      return u.pathname + u.search + u.hash;
    } catch (e) {
      return null;
    }
  }

  function plural(n, word) {
    return n + " " + word + (n === 1 ? "" : "s");
  }

  function retryAfterSeconds(resp, fallback) {
    var raw = resp.headers.get("Retry-After");
    if (!raw) return fallback;
    var n = parseInt(raw, 10);
    if (!isNaN(n) && String(n) === raw.trim()) return Math.max(1, n);
    var when = Date.parse(raw);
    if (!isNaN(when)) return Math.max(1, Math.ceil((when - Date.now()) / 1000));
    return fallback;
  }

  function sectionLabel(citation) {
    var parts = String(citation.section || "").split(" > ").filter(Boolean);
    if (parts.length && parts[0] === citation.title) parts.shift();
    return parts.join(" › ");
  }

  // ---------------------------------------------------------------------------- messages

  function addUserMessage(text) {
    var msg = el("div", "msg msg-user");
    msg.appendChild(visuallyHidden("You asked: "));
    msg.appendChild(el("p", "msg-text", text));
    log.appendChild(msg);
    return msg;
  }

  /** The answer bubble: created empty, filled by deltas, then rebuilt from the final Answer. */
  function AnswerView(question) {
    this.id = "a" + ++viewSeq;
    this.question = question;
    this.node = el("article", "msg msg-bot answer");
    this.node.setAttribute("data-state", "pending");
    this.node.setAttribute("aria-busy", "true");
    this.node.setAttribute("aria-labelledby", this.id + "-label");
    var label = el("h2", "visually-hidden", "PolicyWise answer");
    label.id = this.id + "-label";
    this.node.appendChild(label);
    this.body = el("div", "answer-body");
    this.text = el("p", "answer-text is-thinking");
    this.text.appendChild(el("span", "thinking", "Searching the policies"));
    this.body.appendChild(this.text);
    this.node.appendChild(this.body);
    this.streamed = "";
    this.cites = {};
    log.appendChild(this.node);
  }

  AnswerView.prototype.appendDelta = function (piece) {
    if (typeof piece !== "string" || !piece) return;
    var stick = nearBottom();
    if (!this.streamed) {
      this.text.textContent = "";
      this.text.className = "answer-text is-streaming";
      this.node.setAttribute("data-state", "streaming");
    }
    this.streamed += piece;
    this.text.textContent = this.streamed;
    if (stick) scrollToEnd(true);
  };

  AnswerView.prototype.reset = function (state) {
    this.node.setAttribute("data-state", state);
    this.node.setAttribute("aria-busy", "false");
    this.body.textContent = "";
    this.cites = {};
  };

  AnswerView.prototype.banner = function (iconName, title) {
    var b = el("p", "state-banner");
    b.appendChild(icon(iconName, 18));
    b.appendChild(el("span", null, title));
    this.body.appendChild(b);
  };

  AnswerView.prototype.render = function (data) {
    var state = STATES.indexOf(data.status) >= 0 ? data.status : "answered";
    var citations = Array.isArray(data.citations) ? data.citations : [];
    this.reset(state);
    if (data.answer_id) this.node.setAttribute("data-answer-id", String(data.answer_id));

    if (state === "insufficient_evidence") this.banner("notFound", "Not found in the policies");
    else if (state === "out_of_scope") this.banner("scope", "Outside company policies");
    else if (state === "refused") this.banner("refused", "Can't answer this");

    var text = el("p", "answer-text");
    this.body.appendChild(text);
    var byNumber = {};
    citations.forEach(function (c) {
      byNumber[String(c.number)] = c;
    });
    this.fillText(text, String(data.answer || ""), state === "answered" ? byNumber : {});

    if (state === "out_of_scope") {
      this.body.appendChild(
        el("p", "answer-hint", "Try asking about time off, benefits, expenses, travel, equipment or security.")
      );
    }
    var flags = Array.isArray(data.flags) ? data.flags : [];
    var rewritten = flags.indexOf("spelling_corrected") >= 0 || flags.indexOf("policy_words_added") >= 0;
    if (rewritten && data.question) {
      this.body.appendChild(el("p", "answer-hint", "Searched for: " + String(data.question)));
    }
    if (state === "answered" && flags.indexOf("partially_answered") >= 0) {
      this.body.appendChild(
        el("p", "answer-hint", "Part of your question is not covered by the policies.")
      );
    }
    if (data.degraded) {
      var note = el("p", "degraded-note");
      note.appendChild(icon("info", 16));
      note.appendChild(el("span", null, "Fallback answer: " + this.degradedText(data.degraded_reason, state)));
      this.body.appendChild(note);
    }
    if (citations.length) {
      this.renderCitations(citations, state === "insufficient_evidence" ? "Closest passages" : "Sources");
    }
    var footer = el("div", "answer-footer");
    var provider = String(data.provider || "");
    if (state === "answered" || state === "insufficient_evidence") {
      var meta = provider.indexOf("llm:") === 0 ? "Written by " + provider.slice(4) : "Quoted from the policies";
      footer.appendChild(el("span", "answer-meta", meta));
    }
    if ((state === "answered" || state === "insufficient_evidence") && data.answer_id) {
      footer.appendChild(this.feedback(String(data.answer_id)));
    }
    if (footer.childNodes.length) this.body.appendChild(footer);
  };

  AnswerView.prototype.degradedText = function (reason, state) {
    var code = String(reason || "");
    if (code === "llm_output_repaired") {
      return "statements the policies don't support were removed from the generated answer.";
    }
    var cause = DEGRADED_CAUSES[code];
    if (!cause && code.indexOf("llm_output_") === 0) cause = "the generated answer couldn't be checked against the policies";
    if (!cause) cause = code ? code.replace(/^llm_/, "AI model: ").replace(/_/g, " ") : "the usual answering method was unavailable";
    return cause + (state === "answered" ? ", so this answer quotes the policies directly." : ".");
  };

  /** Answer text with each [n] that matches a citation turned into a small button. */
  AnswerView.prototype.fillText = function (target, text, byNumber) {
    var re = /\[(\d{1,3})\]/g;
    var last = 0;
    var m;
    while ((m = re.exec(text)) !== null) {
      var c = byNumber[m[1]];
      if (!c) continue;
      var before = text.slice(last, m.index);
      // "sentence [1]." -> keep the marker attached to its sentence without a dangling space.
      target.appendChild(document.createTextNode(before.replace(/\s+$/, "")));
      target.appendChild(this.markerButton(c));
      last = m.index + m[0].length;
    }
    target.appendChild(document.createTextNode(text.slice(last)));
  };

  AnswerView.prototype.markerButton = function (c) {
    var n = String(c.number);
    var b = button("cite-ref");
    b.textContent = n;
    b.setAttribute("aria-label", "Source " + n + ": " + (c.title || "policy"));
    b.setAttribute("aria-expanded", "false");
    b.setAttribute("aria-controls", this.id + "-cite-" + n);
    b.setAttribute("data-cite", n);
    b.title = "Show source " + n;
    var self = this;
    b.addEventListener("click", function () {
      self.toggle(n, undefined, true);
    });
    (this.pendingRefs = this.pendingRefs || []).push(b);
    return b;
  };

  AnswerView.prototype.renderCitations = function (citations, heading) {
    var self = this;
    var wrap = el("section", "citations");
    var headingId = this.id + "-sources";
    var h = el("h3", "citations-title", heading);
    h.id = headingId;
    wrap.setAttribute("aria-labelledby", headingId);
    wrap.appendChild(h);
    var chips = el("ul", "chips");
    var panels = el("div", "cite-panels");
    var titleCount = {};
    citations.forEach(function (c) {
      titleCount[c.title] = (titleCount[c.title] || 0) + 1;
    });
    var sectionsByTitle = {};
    citations.forEach(function (c) {
      (sectionsByTitle[c.title] = sectionsByTitle[c.title] || {})[sectionLabel(c)] = true;
    });

    citations.forEach(function (c) {
      var n = String(c.number);
      var panelId = self.id + "-cite-" + n;
      var li = el("li");
      var chip = button("chip");
      chip.setAttribute("aria-expanded", "false");
      chip.setAttribute("aria-controls", panelId);
      chip.setAttribute("data-cite", n);
      chip.appendChild(el("span", "chip-num", n));
      var label = el("span", "chip-title", c.title || c.source || "Policy");
      chip.appendChild(label);
      var section = sectionLabel(c);
      if (titleCount[c.title] > 1 && Object.keys(sectionsByTitle[c.title]).length > 1 && section) {
        chip.appendChild(el("span", "chip-sub", section));
      }
      chip.addEventListener("click", function () {
        self.toggle(n);
      });
      li.appendChild(chip);
      chips.appendChild(li);

      var panel = el("div", "cite-panel");
      panel.id = panelId;
      panel.hidden = true;
      panel.setAttribute("role", "region");
      panel.setAttribute("aria-label", "Source " + n);
      panel.tabIndex = -1;
      var quote = el("blockquote", "snippet", String(c.snippet || "").trim());
      panel.appendChild(quote);
      var meta = el("p", "cite-meta");
      meta.appendChild(el("span", "cite-num", n));
      meta.appendChild(el("span", "cite-title", c.title || c.source || "Policy"));
      if (section) meta.appendChild(el("span", "cite-section", section));
      if (c.page !== null && c.page !== undefined && c.page !== "") {
        meta.appendChild(el("span", "cite-page", "page " + c.page));
      }
      panel.appendChild(meta);
      var href = safeUrl(c.url);
      if (href) {
        var a = el("a", "open-doc");
        a.href = href;
        a.target = "_blank";
        a.rel = "noopener";
        a.appendChild(el("span", null, "Open in document"));
        a.appendChild(visuallyHidden(" (opens in a new tab)"));
        a.appendChild(icon("open", 16));
        panel.appendChild(a);
      }
      panels.appendChild(panel);
      self.cites[n] = { chip: chip, panel: panel, refs: [] };
    });
    (this.pendingRefs || []).forEach(function (b) {
      var entry = self.cites[b.getAttribute("data-cite")];
      if (entry) entry.refs.push(b);
    });
    this.pendingRefs = [];
    wrap.appendChild(chips);
    wrap.appendChild(panels);
    this.body.appendChild(wrap);
  };

  AnswerView.prototype.toggle = function (n, open, fromMarker) {
    var entry = this.cites[n];
    if (!entry) return;
    var show = open === undefined ? entry.panel.hidden : open;
    entry.panel.hidden = !show;
    entry.chip.setAttribute("aria-expanded", String(show));
    entry.refs.forEach(function (b) {
      b.setAttribute("aria-expanded", String(show));
    });
    if (show && fromMarker && typeof entry.panel.scrollIntoView === "function") {
      entry.panel.scrollIntoView({ block: "nearest", behavior: "smooth" });
    }
  };

  AnswerView.prototype.feedback = function (answerId) {
    var group = el("div", "feedback");
    group.setAttribute("role", "group");
    group.setAttribute("aria-label", "Was this answer helpful?");
    group.appendChild(el("span", "feedback-q", "Helpful?"));
    var status = el("span", "feedback-status");
    status.setAttribute("role", "status");
    var buttons = {};
    [
      ["up", "Yes, helpful"],
      ["down", "No, not helpful"],
    ].forEach(function (spec) {
      var rating = spec[0];
      var b = button("fb fb-" + rating);
      b.setAttribute("aria-pressed", "false");
      b.setAttribute("aria-label", spec[1]);
      b.setAttribute("data-rating", rating);
      b.title = spec[1];
      b.appendChild(icon(rating, 16));
      b.addEventListener("click", function () {
        sendFeedback(answerId, rating, buttons, status);
      });
      buttons[rating] = b;
      group.appendChild(b);
    });
    group.appendChild(status);
    return group;
  };

  AnswerView.prototype.renderProblem = function (opts) {
    this.reset(opts.state || "error");
    if (opts.code) this.node.setAttribute("data-code", opts.code);
    this.banner(opts.state === "rate_limited" ? "clock" : "error", opts.title);
    this.body.appendChild(el("p", "answer-text", opts.message));
    var retry = button("btn btn-secondary retry", "Try again");
    var question = this.question;
    var self = this;
    var wait = opts.retryAfter || 0;
    if (wait > 0) {
      retry.disabled = true;
      window.setTimeout(function () {
        retry.disabled = false;
      }, wait * 1000);
    }
    retry.addEventListener("click", function () {
      if (busy) return;
      var prev = self.node.previousElementSibling;
      if (prev && prev.classList.contains("msg-user")) prev.remove();
      self.node.remove();
      ask(question);
    });
    var actions = el("div", "answer-footer");
    actions.appendChild(retry);
    this.body.appendChild(actions);
  };

  // ---------------------------------------------------------------------------- network

  function sendFeedback(answerId, rating, buttons, status) {
    var target = buttons[rating];
    var undo = target.getAttribute("aria-pressed") === "true";
    var previous = {};
    Object.keys(buttons).forEach(function (k) {
      previous[k] = buttons[k].getAttribute("aria-pressed");
      buttons[k].setAttribute("aria-pressed", String(!undo && k === rating));
    });
    if (undo) {
      status.textContent = "";
      return;
    }
    status.textContent = "";
    fetch("/feedback", {
      method: "POST",
      headers: { "Content-Type": "application/json", Accept: "application/json" },
      body: JSON.stringify({ answer_id: answerId, rating: rating }),
    })
      .then(function (resp) {
        if (!resp.ok) throw new Error("HTTP " + resp.status);
        status.textContent = "Thanks for the feedback";
      })
      .catch(function () {
        Object.keys(buttons).forEach(function (k) {
          buttons[k].setAttribute("aria-pressed", previous[k]);
        });
        status.textContent = "Couldn't send feedback";
      });
  }

  /** Reads a text/event-stream body and calls onEvent(name, data) for each event. */
  function readEvents(body, onEvent) {
    var reader = body.getReader();
    var decoder = new TextDecoder();
    var buffer = "";

    function dispatch(block) {
      var name = "message";
      var data = [];
      block.split("\n").forEach(function (line) {
        if (!line || line.charAt(0) === ":") return;
        var i = line.indexOf(":");
        var field = i < 0 ? line : line.slice(0, i);
        var value = i < 0 ? "" : line.slice(i + 1);
        if (value.charAt(0) === " ") value = value.slice(1);
        if (field === "event") name = value;
        else if (field === "data") data.push(value);
      });
      if (!data.length) return;
      var parsed;
      try {
        parsed = JSON.parse(data.join("\n"));
      } catch (e) {
        return;
      }
      onEvent(name, parsed);
    }

    function drain(final) {
      // Normalise line endings, but keep a trailing CR until we know whether an LF follows it.
      var keep = !final && buffer.slice(-1) === "\r" ? "\r" : "";
      if (keep) buffer = buffer.slice(0, -1);
      buffer = buffer.replace(/\r\n?/g, "\n");
      var idx;
      while ((idx = buffer.indexOf("\n\n")) >= 0) {
        dispatch(buffer.slice(0, idx));
        buffer = buffer.slice(idx + 2);
      }
      if (final && buffer.trim()) dispatch(buffer);
      buffer = final ? "" : buffer + keep;
    }

    function pump() {
      return reader.read().then(function (chunk) {
        if (chunk.done) {
          buffer += decoder.decode();
          drain(true);
          return;
        }
        buffer += decoder.decode(chunk.value, { stream: true });
        drain(false);
        return pump();
      });
    }
    return pump();
  }

  function readJson(resp) {
    return resp.json().catch(function () {
      return null;
    });
  }

  function problemFor(resp, body) {
    var err = (body && body.error) || {};
    var status = resp.status;
    if (status === 429) {
      var secs = retryAfterSeconds(resp, 60);
      return {
        state: "rate_limited",
        code: err.code || "rate_limited",
        title: "Slow down a little",
        message: "Too many questions — try again in " + plural(secs, "second") + ".",
        retryAfter: secs,
      };
    }
    if (status === 503) {
      var wait = retryAfterSeconds(resp, 5);
      return {
        state: "error",
        code: err.code || "unavailable",
        title: "PolicyWise is busy",
        message: "The service is overloaded right now — try again in " + plural(wait, "second") + ".",
        retryAfter: wait,
      };
    }
    if (status >= 500) {
      return {
        state: "error",
        code: err.code || "server_error",
        title: "Something went wrong",
        message: "PolicyWise had a problem answering (error " + status + "). Please try again.",
      };
    }
    var messages = {
      413: "Your question is too long. Please shorten it.",
      415: "The question could not be sent in the expected format.",
    };
    return {
      state: "error",
      code: err.code || "bad_request",
      title: "Couldn't send the question",
      message: messages[status] || (err.message ? capitalise(String(err.message)) + "." : "The request was rejected."),
    };
  }

  function capitalise(s) {
    return s.charAt(0).toUpperCase() + s.slice(1).replace(/\.$/, "");
  }

  function ask(question) {
    var text = String(question || "").trim();
    if (busy || !text) return;
    setBusy(true);
    welcome.hidden = true;
    newChatBtn.hidden = false;
    addUserMessage(text);
    var view = new AnswerView(text);
    scrollToEnd(true);

    var payload = { message: text, stream: true };
    if (conversationId) payload.conversation_id = conversationId;
    var finalAnswer = null;
    var streamError = null;

    fetch("/chat", {
      method: "POST",
      headers: { "Content-Type": "application/json", Accept: "text/event-stream" },
      body: JSON.stringify(payload),
    })
      .then(function (resp) {
        if (!resp.ok) {
          return readJson(resp).then(function (body) {
            view.renderProblem(problemFor(resp, body));
          });
        }
        var type = resp.headers.get("Content-Type") || "";
        if (type.indexOf("text/event-stream") < 0 || !resp.body) {
          return readJson(resp).then(function (body) {
            if (body && body.status) finish(view, body);
            else view.renderProblem(unexpected());
          });
        }
        return readEvents(resp.body, function (name, data) {
          if (name === "delta" && data) view.appendDelta(data.text);
          else if (name === "answer") finalAnswer = data;
          else if (name === "error") streamError = (data && data.error) || {};
        }).then(function () {
          if (finalAnswer) finish(view, finalAnswer);
          else if (streamError) {
            view.renderProblem({
              state: "error",
              code: streamError.code || "stream_error",
              title: "Something went wrong",
              message: "PolicyWise hit a problem while answering. Please try again.",
            });
          } else view.renderProblem(unexpected());
        });
      })
      .catch(function () {
        if (finalAnswer) {
          finish(view, finalAnswer);
          return;
        }
        view.renderProblem({
          state: "error",
          code: "network",
          title: "Can't reach PolicyWise",
          message: "Check your connection and try again.",
        });
      })
      .then(function () {
        setBusy(false);
        scrollToEnd(false);
      });
  }

  function unexpected() {
    return {
      state: "error",
      code: "interrupted",
      title: "The answer was interrupted",
      message: "The connection closed before the answer was complete. Please try again.",
    };
  }

  function finish(view, data) {
    if (data.conversation_id && !conversationId) conversationId = String(data.conversation_id);
    view.render(data);
  }

  function setBusy(value) {
    busy = value;
    sendBtn.disabled = value;
    sendBtn.classList.toggle("is-busy", value);
    newChatBtn.disabled = value;
    form.setAttribute("aria-busy", String(value));
    Array.prototype.forEach.call(document.querySelectorAll(".example"), function (b) {
      b.disabled = value;
    });
  }

  function checkHealth() {
    fetch("/health", { headers: { Accept: "application/json" } })
      .then(function (resp) {
        return resp.ok || resp.status === 503 ? resp.json() : null;
      })
      .then(function (body) {
        var llm = body && body.components && body.components.llm_service;
        if (!llm) return;
        var note = document.getElementById("health-note");
        var provider = String(llm.provider || "");
        if (provider.indexOf("llm:") === 0 && llm.status !== "operational") {
          note.textContent = "The AI model is unavailable right now: answers quote the policies directly.";
          note.hidden = false;
        } else {
          note.hidden = true;
        }
      })
      .catch(function () {
        /* the page works without the health note */
      });
  }

  // ---------------------------------------------------------------------------- wiring

  function submitFromInput() {
    var text = input.value.trim();
    if (busy) return;
    if (!text) {
      input.focus();
      return;
    }
    input.value = "";
    autosize();
    ask(text);
  }

  var needsAutosize = !(window.CSS && CSS.supports && CSS.supports("field-sizing", "content"));

  function autosize() {
    if (!needsAutosize) return;
    input.style.height = "auto";
    input.style.height = Math.min(input.scrollHeight + 2, 200) + "px";
  }

  function init() {
    form = document.getElementById("ask-form");
    input = document.getElementById("question");
    sendBtn = document.getElementById("send");
    log = document.getElementById("log");
    welcome = document.getElementById("welcome");
    newChatBtn = document.getElementById("new-chat");

    form.addEventListener("submit", function (event) {
      event.preventDefault();
      submitFromInput();
    });
    input.addEventListener("keydown", function (event) {
      if (event.key === "Enter" && !event.shiftKey && !event.isComposing && event.keyCode !== 229) {
        event.preventDefault();
        submitFromInput();
      }
    });
    input.addEventListener("input", autosize);
    Array.prototype.forEach.call(document.querySelectorAll(".example"), function (b) {
      b.addEventListener("click", function () {
        var q = b.getAttribute("data-question") || b.textContent;
        input.value = q;
        input.focus();
        submitFromInput();
      });
    });
    newChatBtn.addEventListener("click", function () {
      if (busy) return;
      conversationId = null;
      log.textContent = "";
      welcome.hidden = false;
      newChatBtn.hidden = true;
      input.value = "";
      autosize();
      input.focus();
      window.scrollTo(0, 0);
    });
    checkHealth();
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
