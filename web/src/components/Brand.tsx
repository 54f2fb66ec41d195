import './Brand.css';

/** The logo and product name. */
export function Brand() {
  return (
    <div className="brand">
      <img src="/favicon.svg" alt="" width={28} height={28} />
      <span>Parley</span>
    </div>
  );
}
