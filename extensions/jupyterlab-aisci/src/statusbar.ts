// The status-bar item: the running study, its phase, and its tokens and dollars so far.
import { Widget } from '@lumino/widgets';

import { IStudy } from './api';
import { formatCost } from './dom';
import { PHASE_LABELS } from './sidebar';

export class RunStatus extends Widget {
  constructor() {
    super();
    this.addClass('aisci-statusbar');
    this.node.textContent = 'aisci';
  }

  showStudies(studies: IStudy[]): void {
    const running = studies.filter(s => s.running && !s.error);
    const waiting = studies.filter(s => !s.running && !s.error && s.waiting.length);
    if (running.length) {
      const study = running[0];
      const phase = study.phases.find(p => p.state === 'running');
      const more = running.length > 1 ? ` (+${running.length - 1} more)` : '';
      this.node.textContent = `aisci: ${study.name} · ${phase ? PHASE_LABELS[phase.name] : 'starting'} · ${study.cost.tokens.toLocaleString()} tokens · ${formatCost(study.cost.cost_usd)}${more}`;
      this.node.title = 'A study is running';
    } else if (waiting.length) {
      this.node.textContent = `aisci: ${waiting[0].name} waits for you`;
      this.node.title = 'A gate waits for your decision (see the aisci sidebar)';
    } else {
      this.node.textContent = `aisci: ${studies.length} stud${studies.length === 1 ? 'y' : 'ies'}, none running`;
      this.node.title = 'aisci studies under the server root';
    }
  }
}
