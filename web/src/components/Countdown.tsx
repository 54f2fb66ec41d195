import { useEffect, useState } from 'react';
import type { RunningTimer } from '../protocol';
import { formatCountdown, secondsLeft } from '../roomState';
import { ClockIcon } from './Icons';
import './Countdown.css';

/** The meeting timer, counting down to the server's endsAt. */
export function Countdown({ timer, clockOffset }: { timer: RunningTimer; clockOffset: number }) {
  const [now, setNow] = useState(Date.now);
  useEffect(() => {
    const id = setInterval(() => setNow(Date.now()), 200);
    return () => clearInterval(id);
  }, []);
  const left = secondsLeft(timer, now, clockOffset);
  return (
    <div className={`countdown${left <= 5 ? ' urgent' : ''}`}>
      <ClockIcon />
      {/* The label sits beside the timer, not on it: its name would then hide the time shown. */}
      <span className="sr-only">Time left</span>
      <span role="timer" aria-live="off">
        {formatCountdown(left)}
      </span>
    </div>
  );
}
