import type { CatalogWorkshop } from './api';

/** A `#/…` address with no page: where it pointed, and the way back to the workshops. */
export function NotFound({ path, workshop, catalog }: { path: string; workshop: CatalogWorkshop | null; catalog: CatalogWorkshop[] }) {
  return (
    <div className="not-found">
      <h1 id="page-title" tabIndex={-1}>This step does not exist</h1>
      <p>
        There is no page at <code>#/{path}</code>. It may have been renamed, or the
        link is mistyped.
      </p>
      <p>
        {workshop ? <a href={`#/${workshop.type}`}>Go to the {workshop.name} overview</a> : null}
        {workshop ? ' or ' : ''}
        {catalog.map((w, i) => (
          <span key={w.type}>{i > 0 ? ', ' : ''}<a href={`#/${w.type}`}>{w.name}</a></span>
        ))}
      </p>
    </div>
  );
}
