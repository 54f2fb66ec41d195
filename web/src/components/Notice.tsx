import { useEffect, useRef } from 'react';
import { Brand } from './Brand';
import '../styles/page.css';

/**
 * A full-page message with a way back home: the end screens, a meeting that cannot be joined,
 * a meeting that could not be reached. The heading takes focus so screen readers announce it.
 */
export function Notice({
  heading,
  detail,
  onHome,
  action,
}: {
  heading: string;
  detail: string;
  onHome: () => void;
  action?: { label: string; onClick: () => void } | undefined;
}) {
  const ref = useRef<HTMLHeadingElement>(null);
  useEffect(() => ref.current?.focus(), []);
  return (
    <main className="page">
      <div className="card center">
        <Brand />
        <h1 ref={ref} tabIndex={-1}>
          {heading}
        </h1>
        <p className="muted">{detail}</p>
        <div className="row">
          {action && (
            <button type="button" onClick={action.onClick}>
              {action.label}
            </button>
          )}
          <a
            className="button primary"
            href="/"
            onClick={(e) => {
              e.preventDefault();
              onHome();
            }}
          >
            Back to home
          </a>
        </div>
      </div>
    </main>
  );
}
