import { isWvoError } from '../../../../common/src/errors.js';
import type { LaneRuntime } from '../../runtime/index.js';
import { harnessErrors } from '../errors.js';
import type { UpgradeApp } from '../upgrade-context.js';
import type { LaneImages } from './build.js';
import type { UpgradeStep } from './step.js';

export interface AppImagesInput {
  app: UpgradeApp;
  candidate: string;
  /** --baseline; else the app's configured image. */
  baseline: string | undefined;
  runtime: LaneRuntime;
}

/**
 * Image-to-image (`--app NAME --candidate IMAGE`): nothing is staged or built; both images must
 * already be runnable where the lanes start (an image on the engine, a local command's files).
 * A missing one is a coded error naming the app and the flag, before any lane starts.
 */
export const appImagesStep: UpgradeStep<AppImagesInput, LaneImages> = {
  name: 'build',
  async run({ app, candidate, baseline, runtime }, say) {
    const baselineImage = baseline ?? app.config.image;
    if (!baselineImage) {
      throw harnessErrors.create('WVO_APP_BASELINE_MISSING', `app ${app.name}: no baseline image (--baseline, or apps.${app.name}.image)`, {
        subject: `apps.${app.name}.image`,
        hint: 'pass --baseline IMAGE or set the app\'s "image" in wvo.config.json',
      });
    }
    const check = async (image: string, field: string) => {
      try {
        return await runtime.ensureImage(image, { app: app.lane });
      } catch (error) {
        if (isWvoError(error) && error.code === 'WVO_IMAGE_NOT_FOUND') {
          throw harnessErrors.create('WVO_APP_IMAGE_NOT_FOUND', `app ${app.name}: ${field} ${image} is not on the ${runtime.kind} runtime's host (${error.message})`, {
            subject: field,
            hint: runtime.kind === 'local' ? `install that version (apps.${app.name}.command runs it)` : `build or load the image first (docker images ${image})`,
            cause: error,
          });
        }
        throw error;
      }
    };
    const [b, c] = await Promise.all([check(baselineImage, '--baseline'), check(candidate, '--candidate')]);
    say(`image-to-image: baseline ${baselineImage}, candidate ${candidate}`);
    return {
      detail: { mode: 'image-to-image', app: app.name, baseline: baselineImage, baseline_id: b.imageId, candidate, candidate_id: c.imageId },
      output: { baselineImage, candidateImage: candidate },
    };
  },
};
