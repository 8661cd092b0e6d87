// jupyterlab-aisci: the studies sidebar, the new-study dialog (launcher card and command
// palette), the status-bar item, and the notebook-route fixes.
import { ILayoutRestorer, JupyterFrontEnd, JupyterFrontEndPlugin } from '@jupyterlab/application';
import { ICommandPalette, Notification } from '@jupyterlab/apputils';
import { IDocumentManager } from '@jupyterlab/docmanager';
import { ILauncher } from '@jupyterlab/launcher';
import { INotebookTracker } from '@jupyterlab/notebook';
import { IStatusBar } from '@jupyterlab/statusbar';
import { LabIcon } from '@jupyterlab/ui-components';

import { nameNodeNotebooks, nameNodeTab, revertRewritten } from './documents';
import { newStudyDialog } from './newstudy';
import { StudiesSidebar } from './sidebar';
import { RunStatus } from './statusbar';

const ICON_SVG = `<svg xmlns="http://www.w3.org/2000/svg" width="16" height="16" viewBox="0 0 24 24">
  <g class="jp-icon3" fill="#616161">
    <path d="M9 2h6v2h-1v5.2l5.6 9.3A2 2 0 0 1 17.9 21H6.1a2 2 0 0 1-1.7-2.5L10 9.2V4H9z M11.9 11 8.4 17h7.2z"/>
  </g>
</svg>`;

export const aisciIcon = new LabIcon({ name: 'jupyterlab-aisci:icon', svgstr: ICON_SVG });

const COMMAND_NEW = 'aisci:new-study';
const COMMAND_SIDEBAR = 'aisci:open-sidebar';

const plugin: JupyterFrontEndPlugin<void> = {
  id: 'jupyterlab-aisci:plugin',
  description: 'aisci studies: sidebar, server-side runs, gates, experiment tree, new-study dialog, status bar',
  autoStart: true,
  requires: [IDocumentManager],
  optional: [ILayoutRestorer, ICommandPalette, ILauncher, IStatusBar, INotebookTracker],
  activate: (
    app: JupyterFrontEnd,
    docs: IDocumentManager,
    restorer: ILayoutRestorer | null,
    palette: ICommandPalette | null,
    launcher: ILauncher | null,
    statusBar: IStatusBar | null,
    notebooks: INotebookTracker | null
  ) => {
    const open = (path: string) => {
      const widget = docs.openOrReveal(path);
      if (widget) {
        nameNodeTab(widget);
      }
    };
    const sidebar = new StudiesSidebar({
      open,
      newStudy: () => void app.commands.execute(COMMAND_NEW)
    });
    sidebar.title.icon = aisciIcon;
    app.shell.add(sidebar, 'left', { rank: 450 });
    restorer?.add(sidebar, 'aisci-studies');

    app.commands.addCommand(COMMAND_NEW, {
      label: 'New aisci study…',
      caption: 'Create an aisci study (what aisci init does)',
      icon: args => (args.isPalette ? undefined : aisciIcon),
      execute: async () => {
        try {
          const study = await newStudyDialog();
          if (study) {
            Notification.success(`Created ${study.path}: run it from the aisci sidebar`, { autoClose: 5000 });
            app.shell.activateById(sidebar.id);
            await sidebar.refresh();
          }
        } catch (error) {
          Notification.error((error as Error).message, { autoClose: 8000 });
        }
      }
    });
    app.commands.addCommand(COMMAND_SIDEBAR, {
      label: 'aisci: Show the studies',
      execute: () => app.shell.activateById(sidebar.id)
    });
    palette?.addItem({ command: COMMAND_NEW, category: 'aisci' });
    palette?.addItem({ command: COMMAND_SIDEBAR, category: 'aisci' });
    launcher?.add({ command: COMMAND_NEW, category: 'aisci', rank: 1 });

    if (statusBar) {
      const status = new RunStatus();
      statusBar.registerStatusItem('jupyterlab-aisci:status', { item: status, align: 'left', rank: 100 });
      sidebar.studiesChanged.connect((_s, studies) => status.showStudies(studies));
    }
    if (notebooks) {
      nameNodeNotebooks(notebooks);
    }
    sidebar.studiesChanged.connect((_s, studies) => void revertRewritten(app, docs, studies));
  }
};

export default plugin;
