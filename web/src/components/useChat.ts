import { useCallback, useEffect, useReducer, useRef } from 'react';
import { chatReducer, initialChatState, type ChatEntry, type ChatState } from '../chat';
import type { RoomAction } from '../roomState';

/**
 * The room's chat: fed from the same actions as the room's state (joined brings the history, a
 * chat event a message), told whether the chat is on screen (which clears the unread count).
 *
 * The chat event of a private message does not say whom it went to; the sender knows. sending
 * wraps a send so that its recipient is remembered: the server sends the sender's own chat event
 * before answering, in the order of the requests, so the first private message of one's own that
 * arrives is the first private send still waiting.
 */
export function useChat(visible: boolean): {
  chat: ChatState;
  onRoomAction: (action: RoomAction) => void;
  sending: (send: () => Promise<unknown>, to: string | undefined) => Promise<void>;
} {
  const [chat, dispatch] = useReducer(chatReducer, initialChatState);
  const selfId = useRef<string | null>(null);
  const privateTo = useRef<string[]>([]);
  useEffect(() => dispatch({ type: 'visible', visible }), [visible]);
  const onRoomAction = useCallback((action: RoomAction) => {
    if (action.type === 'joined') {
      selfId.current = action.msg.participantId;
      dispatch({ type: 'history', messages: action.msg.chat ?? [] });
    } else if (action.type === 'event' && action.event.type === 'chat') {
      const ev = action.event;
      const entry: ChatEntry = {
        messageId: ev.messageId,
        from: ev.from,
        name: ev.name,
        text: ev.text,
        sentAt: ev.sentAt,
        private: ev.private,
      };
      if (entry.private && entry.from === selfId.current) {
        const to = privateTo.current.shift();
        if (to !== undefined) entry.to = to;
      }
      dispatch({ type: 'received', message: entry, selfId: selfId.current });
    }
  }, []);
  const sending = useCallback(async (send: () => Promise<unknown>, to: string | undefined) => {
    if (to === undefined) {
      await send();
      return;
    }
    privateTo.current.push(to);
    try {
      await send();
    } catch (err) {
      // Refused: no event came for it. Any waiting entry for the same person serves alike.
      const i = privateTo.current.lastIndexOf(to);
      if (i >= 0) privateTo.current.splice(i, 1);
      throw err;
    }
  }, []);
  return { chat, onRoomAction, sending };
}
