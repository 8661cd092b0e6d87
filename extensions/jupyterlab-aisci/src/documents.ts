// The notebook route: node notebooks open with a title naming their idea and node, and a file
// that a run rewrote on disk is reverted in its open tab (so no stale tab can save an old edit back).
import { JupyterFrontEnd } from '@jupyterlab/application';
import { Notification } from '@jupyterlab/apputils';
import { IDocumentManager } from '@jupyterlab/docmanager';
import { DocumentRegistry } from '@jupyterlab/docregistry';
import { INotebookTracker } from '@jupyterlab/notebook';
import { Widget } from '@lumino/widgets';

import { IStudy } from './api';

const NODE_NOTEBOOK = /(^|\/)experiments\/([^/]+)\/([^/]+)\/experiment\.ipynb$/;

export function nodeTitle(path: string): string | null {
  const match = NODE_NOTEBOOK.exec(path);
  return match ? `${match[2]} · ${match[3]}` : null;
}

export function nameNodeNotebooks(tracker: INotebookTracker): void {
  tracker.widgetAdded.connect((_sender, panel) => nameNodeTab(panel));
}

// A document widget renames its file when its tab's label changes. A node notebook must keep its
// name (the tree finds it by path), so its tab stops renaming before it gets the idea · node label;
// where that cannot be done (a future JupyterLab), the tab keeps the file name.
export function nameNodeTab(panel: Widget): void {
  const widget = panel as Widget & { context?: DocumentRegistry.Context; _onTitleChanged?: unknown };
  const context = widget.context;
  if (!context || !nodeTitle(context.path) || !widget._onTitleChanged) {
    return;
  }
  if (!widget.title.changed.disconnect(widget._onTitleChanged as any, widget)) {
    return;
  }
  const name = () => {
    const title = nodeTitle(context.path);
    if (title) {
      widget.title.label = title;
      widget.title.caption = `${context.path}\n(an experiment node: edits become a human node on the next run)`;
    }
  };
  name();
  context.pathChanged.connect(name);
}

// Compare each open document inside a study with the file on disk; a newer file on disk means
// a run wrote it: revert the tab and say so.
export async function revertRewritten(app: JupyterFrontEnd, docs: IDocumentManager, studies: IStudy[]): Promise<void> {
  const roots = studies.filter(s => !s.error).map(s => (s.path === '.' ? '' : `${s.path}/`));
  for (const widget of Array.from(app.shell.widgets('main'))) {
    const context = docs.contextForWidget(widget);
    if (!context || !context.isReady || !roots.some(root => context.path.startsWith(root))) {
      continue;
    }
    const known = context.contentsModel?.last_modified;
    if (!known) {
      continue;
    }
    let onDisk: string;
    try {
      onDisk = (await app.serviceManager.contents.get(context.path, { content: false })).last_modified;
    } catch {
      continue; // removed: nothing to revert to
    }
    if (new Date(onDisk).getTime() > new Date(known).getTime() + 500) {
      const lost = context.model.dirty ? ' Your unsaved change was dropped.' : '';
      await context.revert();
      Notification.warning(`${context.path} was rewritten by an aisci run; the tab now shows the file on disk.${lost}`, { autoClose: 10000 });
    }
  }
}
