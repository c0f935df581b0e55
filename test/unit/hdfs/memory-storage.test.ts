/** MemoryStorage must pass the same contract as the real WebHDFS Storage, or the sink's unit tests prove nothing. */
import { MemoryStorage } from '../../../src/hdfs/memory-storage.ts';
import { storageConformance } from '../../helpers/storage-conformance.ts';

storageConformance('MemoryStorage', async () => ({
  storage: new MemoryStorage(),
  root: '/conformance',
  cleanup: async () => {},
}));
