import { useEffect, useRef } from 'react';
import { Brand } from './Brand';
import '../styles/page.css';
import './WaitingRoom.css';

/**
 * What a person whose join the waiting room holds sees until the host decides: that they wait,
 * and a way to leave. The heading takes focus so screen readers announce it.
 */
export function WaitingRoom({ name, onLeave }: { name: string; onLeave: () => void }) {
  const ref = useRef<HTMLHeadingElement>(null);
  useEffect(() => ref.current?.focus(), []);
  return (
    <main className="page">
      <div className="card center">
        <Brand />
        <div className="spinner waiting-spinner" aria-hidden="true" />
        <h1 ref={ref} tabIndex={-1}>
          Waiting for the host to let you in
        </h1>
        <p className="muted" role="status">
          You asked to join as {name}. You will be in the meeting as soon as the host lets you in.
        </p>
        <div className="row">
          <button type="button" onClick={onLeave}>
            Leave
          </button>
        </div>
      </div>
    </main>
  );
}
