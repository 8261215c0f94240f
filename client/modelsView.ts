/**
 * The Models view. The model registry fills it in (a later issue); until then it has no rows, and
 * VS Code shows the view's welcome content (package.json `viewsWelcome`) as its empty state.
 */
import * as vscode from 'vscode';

export const MODELS_VIEW_ID = 'runwise.models';

export class ModelsView implements vscode.TreeDataProvider<never>, vscode.Disposable {
  private readonly view = vscode.window.createTreeView(MODELS_VIEW_ID, { treeDataProvider: this });

  getTreeItem(element: never): vscode.TreeItem {
    return element;
  }

  getChildren(): never[] {
    return [];
  }

  dispose(): void {
    this.view.dispose();
  }
}
