import './NameField.css';

/** The "Your name" text box with its error message, as the home and join pages both ask it. */
export function NameField({
  value,
  onChange,
  error,
  errorId,
}: {
  value: string;
  onChange: (name: string) => void;
  error: string | null | undefined;
  errorId: string;
}) {
  return (
    <>
      <label className="field">
        <span>Your name</span>
        <input
          type="text"
          value={value}
          onChange={(e) => onChange(e.target.value)}
          autoComplete="name"
          maxLength={200}
          aria-invalid={error ? true : undefined}
          aria-describedby={error ? errorId : undefined}
          autoFocus
        />
      </label>
      {error && (
        <p id={errorId} className="error" role="alert">
          {error}
        </p>
      )}
    </>
  );
}
