import { useEffect, useId, useRef, useState, type KeyboardEvent, type SyntheticEvent } from 'react';
import { chatTextProblem, clockTime, type ChatEntry } from '../chat';
import { ProtocolError, type Participant } from '../protocol';
import './ChatPanel.css';

/** What a refused message means for the person. */
function sendError(err: unknown): string {
  if (err instanceof ProtocolError) {
    switch (err.code) {
      case 'rate_limited':
        return 'You are sending messages too fast. Wait a moment, then send again.';
      case 'forbidden':
        return 'The host has turned chat off.';
      case 'not_found':
        return 'That person is no longer in the meeting. Pick someone else, or Everyone.';
      case 'closed':
        return 'Not connected to the server right now. Your message was not sent.';
      default:
        return err.message;
    }
  }
  return err instanceof Error ? err.message : String(err);
}

/**
 * The meeting's chat: the messages, as plain text always (a link is shown, never followed or
 * rendered as HTML), and a box to write one, to everyone or privately to one person.
 */
export function ChatPanel({
  messages,
  names,
  selfId,
  others,
  canSend,
  live,
  onSend,
}: {
  messages: readonly ChatEntry[];
  /** The names to show for the people in the meeting (told apart: "Grace (2)"). */
  names: ReadonlyMap<string, string>;
  selfId: string;
  /** Everyone else, for the recipient picker. */
  others: readonly Participant[];
  /** Chat is allowed for this person (the host always may). */
  canSend: boolean;
  live: boolean;
  /** Sends the text; rejects with the server's refusal. */
  onSend: (text: string, to: string | undefined) => Promise<void>;
}) {
  const [text, setText] = useState('');
  const [to, setTo] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [sending, setSending] = useState(false);
  const list = useRef<HTMLDivElement>(null);
  const errorId = useId();
  // Someone picked who left: the message goes to everyone again.
  const recipient = others.some((p) => p.participantId === to) ? to : '';
  const nameOf = (id: string, fallback: string) => names.get(id) ?? fallback;

  // The newest message in view, as chats do.
  useEffect(() => {
    const el = list.current;
    if (el) el.scrollTop = el.scrollHeight;
  }, [messages.length]);

  async function send(e?: SyntheticEvent) {
    e?.preventDefault();
    if (sending) return;
    const problem = chatTextProblem(text);
    if (problem) {
      setError(problem);
      return;
    }
    setSending(true);
    setError(null);
    try {
      await onSend(text, recipient || undefined);
      setText('');
    } catch (err) {
      setError(sendError(err));
    } finally {
      setSending(false);
    }
  }

  function onKeyDown(e: KeyboardEvent<HTMLTextAreaElement>) {
    // Enter sends, Shift+Enter starts a new line (and composing an accented letter is not sending).
    if (e.key === 'Enter' && !e.shiftKey && !e.nativeEvent.isComposing) {
      e.preventDefault();
      void send();
    }
  }

  function fromLabel(m: ChatEntry): string {
    const mine = m.from === selfId;
    const sender = mine ? 'You' : nameOf(m.from, m.name);
    if (!m.private) return sender;
    if (mine) return m.to ? `You to ${nameOf(m.to, 'someone who left')} (private)` : 'You (private)';
    return `${sender} to you (private)`;
  }

  const disabled = !live || !canSend;
  return (
    <div className="panel chat">
      <h2 id="chat-heading">Chat</h2>
      {messages.length === 0 ? (
        <p className="muted chat-empty">No messages yet. Messages are seen by everyone in the meeting unless sent privately.</p>
      ) : null}
      <div className="chat-messages" ref={list} role="log" aria-labelledby="chat-heading" tabIndex={messages.length > 0 ? 0 : -1}>
        <ol>
          {messages.map((m) => (
          <li key={m.messageId} className={m.private ? 'private' : undefined}>
            <div className="chat-meta">
              <span className="chat-from">{fromLabel(m)}</span>
              <time dateTime={new Date(m.sentAt).toISOString()}>{clockTime(m.sentAt)}</time>
            </div>
              <p className="chat-text">{m.text}</p>
            </li>
          ))}
        </ol>
      </div>
      <form className="chat-form" onSubmit={(e) => void send(e)}>
        {!canSend && (
          <p className="muted" role="status">
            The host has turned chat off.
          </p>
        )}
        <label className="chat-to">
          <span>Send to</span>
          <select value={recipient} onChange={(e) => setTo(e.target.value)} disabled={disabled}>
            <option value="">Everyone</option>
            {others.map((p) => (
              <option key={p.participantId} value={p.participantId}>
                {nameOf(p.participantId, p.name)} (private)
              </option>
            ))}
          </select>
        </label>
        <div className="chat-compose">
          <textarea
            aria-label="Message"
            value={text}
            rows={2}
            disabled={disabled}
            placeholder={recipient ? `Message to ${nameOf(recipient, '')}` : 'Message to everyone'}
            aria-invalid={error !== null}
            aria-describedby={error ? errorId : undefined}
            onChange={(e) => {
              setText(e.target.value);
              if (error) setError(null);
            }}
            onKeyDown={onKeyDown}
          />
          <button type="submit" className="primary small" disabled={disabled || sending || text.trim() === ''}>
            Send
          </button>
        </div>
        <p id={errorId} className="chat-error" role="alert">
          {error ?? ''}
        </p>
      </form>
    </div>
  );
}
