import { useEffect, useId, useRef, useState, type ReactNode } from 'react';
import { MoreIcon } from './Icons';

/** One action of a row's menu. */
export interface RowAction {
  /** Visible text and accessible name alike, whole ("Remove Grace"). */
  label: string;
  onSelect: () => void;
  danger?: boolean;
}

/**
 * "More actions for {name}": a button that shows a short list of actions (a disclosure). Escape
 * or a click elsewhere closes it and gives the focus back to the button.
 */
export function RowMenu({
  name,
  groups,
  disabled,
}: {
  name: string;
  /** Groups of actions, shown apart (e.g. the removal away from the rest). */
  groups: RowAction[][];
  disabled: boolean;
}) {
  const [wantOpen, setOpen] = useState(false);
  // A menu whose actions became unavailable (reconnecting) closes.
  const open = wantOpen && !disabled;
  const button = useRef<HTMLButtonElement>(null);
  const menu = useRef<HTMLDivElement>(null);
  const id = useId();

  useEffect(() => {
    if (!open) return;
    menu.current?.querySelector('button')?.focus();
    const onKey = (e: KeyboardEvent) => {
      if (e.key === 'Escape') {
        setOpen(false);
        button.current?.focus();
      }
    };
    const onPointer = (e: PointerEvent) => {
      const t = e.target as Node;
      if (!menu.current?.contains(t) && !button.current?.contains(t)) setOpen(false);
    };
    window.addEventListener('keydown', onKey);
    window.addEventListener('pointerdown', onPointer);
    return () => {
      window.removeEventListener('keydown', onKey);
      window.removeEventListener('pointerdown', onPointer);
    };
  }, [open]);

  const items: ReactNode[] = [];
  groups
    .filter((g) => g.length > 0)
    .forEach((g, gi) => {
      if (gi > 0) items.push(<hr key={`sep-${gi}`} />);
      g.forEach((a) =>
        items.push(
          <button
            key={a.label}
            type="button"
            className={a.danger ? 'danger' : undefined}
            onClick={() => {
              setOpen(false);
              // The trigger takes the focus first, so that a dialog the action opens gives it back there.
              button.current?.focus();
              a.onSelect();
            }}
          >
            {a.label}
          </button>,
        ),
      );
    });

  return (
    <div className="row-menu">
      <button
        ref={button}
        type="button"
        className="icon-button"
        aria-label={`More actions for ${name}`}
        title={`More actions for ${name}`}
        aria-expanded={open}
        aria-controls={open ? id : undefined}
        disabled={disabled}
        onClick={() => setOpen((o) => !o)}
      >
        <MoreIcon />
      </button>
      {open && (
        <div ref={menu} id={id} className="row-menu-list" role="group" aria-label={`Actions for ${name}`}>
          {items}
        </div>
      )}
    </div>
  );
}
