import { useEffect, useRef, useState } from 'react';
import { LinkIcon } from './Icons';
import './MeetingLink.css';

/**
 * The meeting's link, whole, and "Copy link", which says visibly (and to screen readers) that
 * the link was copied. In the top bar it is one line; in the invitation card it may wrap.
 */
export function MeetingLink({ url, variant }: { url: string; variant: 'bar' | 'card' }) {
  const [copied, setCopied] = useState(false);
  const field = useRef<HTMLInputElement & HTMLTextAreaElement>(null);

  useEffect(() => {
    if (!copied) return;
    const id = setTimeout(() => setCopied(false), 3000);
    return () => clearTimeout(id);
  }, [copied]);

  async function copy() {
    try {
      await navigator.clipboard.writeText(url);
    } catch {
      // Clipboard access may be refused (no permission, insecure page): fall back to selection.
      field.current?.select();
      // Deprecated, but the only way left to copy where the Clipboard API is refused.
      // eslint-disable-next-line @typescript-eslint/no-deprecated
      document.execCommand('copy');
    }
    setCopied(true);
  }

  const common = {
    ref: field,
    className: 'link',
    readOnly: true,
    value: url,
    'aria-label': 'Meeting link',
    onFocus: (e: { target: HTMLInputElement | HTMLTextAreaElement }) => e.target.select(),
  };
  return (
    <div className={`meeting-link ${variant}`}>
      {variant === 'card' ? (
        <textarea {...common} rows={2} spellCheck={false} />
      ) : (
        <input {...common} size={Math.min(url.length + 1, 60)} />
      )}
      <div className="meeting-link-actions">
        <button type="button" onClick={() => void copy()} className="small">
          <LinkIcon />
          <span>Copy link</span>
        </button>
        <span className={`copied${copied ? ' shown' : ''}`} role="status">
          {copied ? 'Link copied' : ''}
        </span>
      </div>
    </div>
  );
}
