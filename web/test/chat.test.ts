import { describe, expect, it } from 'vitest';
import { chatReducer, chatTextProblem, initialChatState, maxChatLength, type ChatAction, type ChatState } from '../src/chat';
import type { ChatMessage } from '../src/protocol';

function msg(id: string, from: string, extra: Partial<ChatMessage> = {}): ChatMessage {
  return { messageId: id, from, name: from, text: `text ${id}`, sentAt: Number(id), private: false, ...extra };
}

const run = (actions: ChatAction[], start: ChatState = initialChatState) => actions.reduce(chatReducer, start);

describe('chat state', () => {
  it('takes the history joined brings, without counting it as unread', () => {
    const s = run([{ type: 'history', messages: [msg('1', 'a'), msg('2', 'b')] }]);
    expect(s.messages.map((m) => m.messageId)).toEqual(['1', '2']);
    expect(s.unread).toBe(0);
  });

  it('counts messages from others while the chat is out of sight, and clears them when shown', () => {
    const s = run([
      { type: 'received', message: msg('1', 'other'), selfId: 'me' },
      { type: 'received', message: msg('2', 'me'), selfId: 'me' },
      { type: 'received', message: msg('3', 'other'), selfId: 'me' },
    ]);
    expect(s.unread).toBe(2);
    const shown = chatReducer(s, { type: 'visible', visible: true });
    expect(shown.unread).toBe(0);
    const more = chatReducer(shown, { type: 'received', message: msg('4', 'other'), selfId: 'me' });
    expect(more.unread).toBe(0);
    expect(more.messages).toHaveLength(4);
  });

  it('keeps what it had across a rejoin and adds only what is new, in the order sent', () => {
    const before = run([
      { type: 'history', messages: [msg('1', 'a')] },
      { type: 'received', message: msg('2', 'b', { private: true }), selfId: 'me' },
    ]);
    const after = chatReducer(before, { type: 'history', messages: [msg('1', 'a'), msg('3', 'a')] });
    expect(after.messages.map((m) => m.messageId)).toEqual(['1', '2', '3']);
    expect(chatReducer(after, { type: 'history', messages: [msg('1', 'a')] })).toBe(after);
    expect(chatReducer(after, { type: 'received', message: msg('3', 'a'), selfId: 'me' })).toBe(after);
  });
});

describe('chat text', () => {
  it('follows the protocol: 1 to 2000 code points as sent, no control characters but newline and tab, not blank', () => {
    expect(chatTextProblem('hi')).toBeNull();
    expect(chatTextProblem('line one\n\tline two')).toBeNull();
    expect(chatTextProblem('😀'.repeat(maxChatLength))).toBeNull();
    expect(chatTextProblem('a'.repeat(maxChatLength + 1))).toMatch(/at most 2000/);
    expect(chatTextProblem('')).not.toBeNull();
    expect(chatTextProblem(' \n\t ')).not.toBeNull();
    expect(chatTextProblem('a\rb')).not.toBeNull();
    expect(chatTextProblem('a\u0000b')).not.toBeNull();
    expect(chatTextProblem('a\u0085b')).not.toBeNull();
    expect(chatTextProblem('<a href="https://x.test">link</a>')).toBeNull();
  });
});
