// The meeting's chat as the person sees it: the messages (the history joined brought, then what
// arrived), and how many came from others while the chat was out of sight. A pure reducer, kept
// apart from the room's state: chat changes often and concerns one panel and one badge only.

import type { ChatMessage } from './protocol';

/** PROTOCOL.md: 1 to 2000 code points, counted as sent. */
export const maxChatLength = 2000;

/** How many messages the page keeps (the server's history holds the last 100 public ones). */
const keep = 500;

/** A message as kept here: for a private one the person sent, also whom it went to. */
export type ChatEntry = ChatMessage & { to?: string };

export interface ChatState {
  messages: ChatEntry[];
  /** Messages from others that arrived while the chat was not showing. */
  unread: number;
  /** The chat panel is on screen. */
  visible: boolean;
}

export type ChatAction =
  | { type: 'history'; messages: readonly ChatMessage[] }
  | { type: 'received'; message: ChatEntry; selfId: string | null }
  | { type: 'visible'; visible: boolean };

export const initialChatState: ChatState = { messages: [], unread: 0, visible: false };

export function chatReducer(state: ChatState, action: ChatAction): ChatState {
  switch (action.type) {
    case 'history': {
      // A rejoin brings the public history again: add only what is new (a private message kept
      // from before stays), in the order sent.
      const seen = new Set(state.messages.map((m) => m.messageId));
      const fresh = action.messages.filter((m) => !seen.has(m.messageId));
      if (fresh.length === 0) return state;
      const messages = [...state.messages, ...fresh].sort((a, b) => a.sentAt - b.sentAt).slice(-keep);
      return { ...state, messages };
    }
    case 'received': {
      const m = action.message;
      if (state.messages.some((x) => x.messageId === m.messageId)) return state;
      const fromOther = m.from !== action.selfId;
      return {
        ...state,
        messages: [...state.messages, m].slice(-keep),
        unread: fromOther && !state.visible ? state.unread + 1 : state.unread,
      };
    }
    case 'visible':
      return action.visible === state.visible && (!action.visible || state.unread === 0)
        ? state
        : { ...state, visible: action.visible, unread: action.visible ? 0 : state.unread };
  }
}

/**
 * Why the text cannot be sent, in a sentence, or null when it can. The same rules as the server
 * (PROTOCOL.md, "Chat"), so that the person hears of them before sending.
 */
export function chatTextProblem(text: string): string | null {
  // PROTOCOL.md counts a chat message's length in code points, which is what spreading yields.
  // eslint-disable-next-line @typescript-eslint/no-misused-spread
  const length = [...text].length;
  if (text.trim() === '') return 'Type a message first.';
  if (length > maxChatLength) return `Messages can be at most ${maxChatLength} characters (this one has ${length}).`;
  // Control characters but newline and tab are exactly what this looks for.
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/.test(text)) return 'The message contains characters that cannot be sent.';
  return null;
}

/** The time of day of a server timestamp, as hours and minutes in the person's locale. */
export function clockTime(at: number, withSeconds = false): string {
  return new Date(at).toLocaleTimeString(undefined, {
    hour: '2-digit',
    minute: '2-digit',
    ...(withSeconds ? { second: '2-digit' } : {}),
  });
}
