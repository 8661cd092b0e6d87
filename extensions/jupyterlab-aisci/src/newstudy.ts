// The new-study dialog: a template (shipped, or a folder), the topic, the model spec and the
// gate policy; it runs what `aisci init` does on the server. Keys are never typed here: the
// dialog only says which environment variable the model reads and whether it is set.
import { Dialog, showDialog } from '@jupyterlab/apputils';
import { Widget } from '@lumino/widgets';

import { IModelNeeds, IStudy, post, request } from './api';
import { h } from './dom';

export interface INewStudy {
  path: string;
  template: string;
  topic: string;
  llm: string;
  gate_policy: string;
}

class NewStudyForm extends Widget implements Dialog.IBodyWidget<INewStudy> {
  constructor(templates: string[], initial: INewStudy | null) {
    super();
    this.addClass('aisci-new-study-form');
    this.folder = h('input', { class: 'aisci-field-folder', type: 'text', placeholder: 'my-study', value: 'my-study' }) as HTMLInputElement;
    this.template = h(
      'select',
      { class: 'aisci-field-template' },
      templates.map(name => h('option', { value: name }, name)),
      h('option', { value: '' }, 'a template folder…')
    ) as HTMLSelectElement;
    this.templateFolder = h('input', { class: 'aisci-field-template-folder', type: 'text', placeholder: 'path/to/template (relative to the server root, or absolute)' }) as HTMLInputElement;
    this.topic = h('input', { class: 'aisci-field-topic', type: 'text', placeholder: 'How weight decay shapes grokking' }) as HTMLInputElement;
    this.model = h('input', { class: 'aisci-field-model', type: 'text', value: 'offline', placeholder: 'offline, openai:MODEL, ollama:MODEL, vllm:MODEL@URL' }) as HTMLInputElement;
    this.gates = h('select', { class: 'aisci-field-gates' }, h('option', { value: 'auto' }, 'auto: the run decides by score'), h('option', { value: 'stop' }, 'stop: the run waits for you at each gate')) as HTMLSelectElement;
    this.needs = h('div', { class: 'aisci-model-needs' });
    const field = (label: string, ...inputs: HTMLElement[]) => h('label', { class: 'aisci-field' }, h('span', {}, label), ...inputs);
    this.node.append(
      field('Folder (under the server root)', this.folder),
      field('Template', this.template, this.templateFolder),
      field('Topic', this.topic),
      field('Model', this.model, this.needs),
      field('Gate policy', this.gates)
    );
    if (initial) {
      this.folder.value = initial.path;
      this.template.value = templates.includes(initial.template) ? initial.template : '';
      this.templateFolder.value = templates.includes(initial.template) ? '' : initial.template;
      this.topic.value = initial.topic;
      this.model.value = initial.llm;
      this.gates.value = initial.gate_policy;
    }
    this.template.addEventListener('change', () => this.showTemplateFolder());
    this.model.addEventListener('input', () => this.checkModel());
    this.showTemplateFolder();
    void this.checkModel();
  }

  getValue(): INewStudy {
    return {
      path: this.folder.value.trim(),
      template: this.template.value || this.templateFolder.value.trim(),
      topic: this.topic.value.trim(),
      llm: this.model.value.trim() || 'offline',
      gate_policy: this.gates.value
    };
  }

  private showTemplateFolder(): void {
    this.templateFolder.style.display = this.template.value ? 'none' : '';
  }

  // which key the model needs, and whether the server's environment has it (yes/no only)
  private async checkModel(): Promise<void> {
    const spec = this.model.value.trim() || 'offline';
    const asked = ++this.asked;
    try {
      const needs = await request<IModelNeeds>(`model?spec=${encodeURIComponent(spec)}`);
      if (asked !== this.asked) {
        return;
      }
      this.needs.textContent = needs.env
        ? `Needs the environment variable ${needs.env} on the server: ${needs.set ? 'set (yes)' : 'not set (no)'}. Set it where JupyterLab runs, never here.`
        : needs.provider === 'offline'
          ? 'The offline engine: deterministic, model-free, no key needed.'
          : 'No key needed.';
      this.needs.dataset.set = needs.env ? String(needs.set) : '';
    } catch (error) {
      if (asked === this.asked) {
        this.needs.textContent = (error as Error).message;
      }
    }
  }

  private folder: HTMLInputElement;
  private template: HTMLSelectElement;
  private templateFolder: HTMLInputElement;
  private topic: HTMLInputElement;
  private model: HTMLInputElement;
  private gates: HTMLSelectElement;
  private needs: HTMLElement;
  private asked = 0;
}

// Ask for the study, create it; a refused request shows its one-line reason and asks again.
export async function newStudyDialog(): Promise<IStudy | null> {
  const { templates } = await request<{ templates: string[] }>('templates');
  let values: INewStudy | null = null;
  let error = '';
  for (;;) {
    const form: NewStudyForm = new NewStudyForm(templates, values);
    if (error) {
      form.node.prepend(h('div', { class: 'aisci-error' }, error));
    }
    const result: Dialog.IResult<INewStudy> = await showDialog<INewStudy>({
      title: 'New aisci study',
      body: form,
      buttons: [Dialog.cancelButton(), Dialog.okButton({ label: 'Create' })],
      focusNodeSelector: '.aisci-field-topic'
    });
    if (!result.button.accept || !result.value) {
      return null;
    }
    const asked: INewStudy = result.value;
    values = asked;
    try {
      return await post<IStudy>('studies', asked);
    } catch (e) {
      error = (e as Error).message;
    }
  }
}
