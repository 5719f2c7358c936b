// 한국어 (Korean). Same shape as en.ts; command names stay English.
import type { UsageCounts } from '../../history/usage-ledger.js';
import type { Replies } from './en.js';

const when = (at: Date) => `<t:${Math.ceil(at.getTime() / 1000)}:R>`;
const number = (n: number) => n.toLocaleString('ko-KR');
const retentionNote = (days: number) => `저장된 대화는 쓰인 지 ${days}일이 지나면 지워져요.`;
const tokens = (c: UsageCounts) =>
  `답변 ${number(c.requests)}개, 토큰 ${number(c.promptTokens + c.completionTokens)}개 (읽은 토큰 ${number(c.promptTokens)}개${c.cachedTokens ? `, 그중 캐시 ${number(c.cachedTokens)}개` : ''}, 쓴 토큰 ${number(c.completionTokens)}개)`;
const STATS_MODELS = 8;

export const ko: Replies = {
  failure: {
    rate_limited: '지금 메시지가 너무 많아요. 1분 뒤에 다시 시도해 주세요.',
    unavailable: '지금 AI 모델에 연결할 수 없어요. 잠시 뒤에 다시 시도해 주세요.',
    too_long: '메시지가 너무 길어서 한 번에 읽을 수 없어요. 줄이거나 나눠서 보내 주세요.',
    misconfigured: '설정 문제로 지금은 답할 수 없어요. 봇 운영자에게 알렸어요.',
    memory_unavailable: '잠시 기억 저장소를 쓸 수 없어요. 조금 뒤에 다시 시도해 주세요.',
    moderated: '죄송해요, 이 메시지에는 도와드릴 수 없어요. 이 봇이 따르는 콘텐츠 기준에 맞지 않아요. 다른 것을 물어봐 주세요.',
    answer_moderated: '답을 썼지만 이 봇의 콘텐츠 검사를 통과하지 못해서 보여 드리지 않아요. 다르게 물어봐 주세요.',
    moderation_unavailable: '지금은 메시지를 검사할 수 없어서 아직 답할 수 없어요. 잠시 뒤에 다시 시도해 주세요.',
  },
  notAllowed: '죄송해요, 이 봇은 일부 사용자만 쓸 수 있어요. 사용하고 싶다면 봇 운영자에게 문의해 주세요.',
  rateLimited: (retryAt) => `메시지를 너무 빨리 보내고 있어요. ${when(retryAt)} 다시 시도해 주세요.`,
  backlogFull: '아직 앞서 보내신 메시지들에 답하는 중이라 이 메시지는 받지 않았어요. 그 답을 모두 드릴 때까지 새 메시지는 받지 않아요. 답이 도착한 뒤에 다시 보내 주세요.',
  tokenCap: (retryAt) => `오늘 사용량 한도에 도달했어요. ${when(retryAt)} 다시 대화할 수 있어요.`,
  unexpected: '문제가 생겼어요. 다시 시도해 주세요.',
  lateAnswer: '(늦게 답해서 미안해요: 보내 주셨을 때 제가 오프라인이었어요.)',
  emptyMessage: '저는 글만 읽을 수 있어요. 글로 메시지를 보내 주세요.',
  voiceMessage: '아직 음성 메시지는 들을 수 없어요. 글로 입력해 주세요.',
  attachments: {
    unsupported: (name) => `📎 ${name}은(는) 지원하지 않는 파일 형식이라 읽을 수 없어서 빼고 답했어요.`,
    noVision: (name, model) => `📎 지금 쓰는 모델(${model})은 이미지를 볼 수 없어서 ${name}은(는) 빼고 답했어요.`,
    failed: (name) => `📎 ${name}을(를) 내려받지 못해서 빼고 답했어요.`,
    tooLarge: (name, megabytes) => `📎 ${name}은(는) 너무 커서(${number(megabytes)}MB 초과) 빼고 답했어요.`,
    tooMany: (name, max) => `📎 메시지 하나에 첨부 파일은 ${number(max)}개까지만 읽어서 ${name}은(는) 빼고 답했어요.`,
    cut: (name, chars) => `📎 ${name}이(가) 길어서 앞의 ${number(chars)}자만 읽었어요.`,
    animated: (name) => `📎 ${name}은(는) 움직이는 이미지라서 빼고 답했어요. 정지 이미지만 볼 수 있어요.`,
  },
  inputTooLong: (max) => `메시지가 ${max}자를 넘어요. 줄이거나 나눠서 보내 주세요.`,
  loggedOut: '완료: 지금까지의 대화를 잊었어요. 기록은 그대로 남아 있어요.',
  noSessionToReset: '잊을 대화가 없었어요. 기록은 그대로 남아 있어요.',
  history: {
    inThread: (channelId) => `서버 스레드 <#${channelId}>에서`,
    empty: '아직 저장된 대화가 없어요. DM을 보내서 대화를 시작해 보세요.',
    footer: (page, pages, total) => `${pages}쪽 중 ${page}쪽 · 대화 ${total}개`,
    you: '나',
    bot: '봇',
    stopped: '(중지됨)',
    attached: (files) => `📎 첨부: ${files}`,
    previous: '이전',
    next: '다음',
    expired: '오래된 기록 화면이에요. /history 를 다시 실행해 주세요.',
    fileReady: (exchanges, files) => `전체 기록이에요: 대화 ${exchanges}개, 파일 ${files}개.`,
    fileTitle: '대화 기록',
    exportPart: (first, last) => `기록 파일 ${first}–${last}번이에요. 나머지 파일은 다음 메시지로 보낼게요…`,
    exportDone: (first, last, exchanges) => `기록 파일 ${first}–${last}번이에요. 전체 기록을 모두 보냈어요: 대화 ${exchanges}개, 파일 ${last}개.`,
    exportCut: (bytes) => `✂ 여기서 잘렸어요: 이 대화는 Discord로 보낼 수 있는 가장 큰 파일(${bytes}바이트)보다 커요.`,
    exportBusy: '기록을 내보내는 중이에요. 끝난 뒤에 다시 요청해 주세요.',
    exportCooldown: (retryAt) => `방금 기록을 내보냈어요. ${when(retryAt)} 다시 내보낼 수 있어요.`,
  },
  clear: {
    confirm: (count, expiresAt) =>
      `저장된 대화 ${count}개와 지금 대화, 그리고 내가 쓴 내용으로 남아 있는 모든 것을 지울까요? 되돌릴 수 없어요. 이 뒤에 보내는 메시지는 남아요. 이 버튼은 ${when(expiresAt)}까지 쓸 수 있어요.`,
    nothing: '저장된 기록은 없어요. 그래도 지금 대화와 지시 사항은 잊었어요. 내가 쓴 글은 아무것도 남지 않아요.',
    confirmButton: '모두 지우기',
    cancelButton: '취소',
    done: (count) => `대화 ${count}개를 지우고 대화 내용도 잊었어요. 이전에 쓴 내용은 아무것도 남지 않아요.`,
    expired: '확인 시간이 지나서 아무것도 지우지 않았어요. /clear-history 를 다시 실행해 주세요.',
    cancelled: '취소했어요. 아무것도 지우지 않았어요.',
  },
  help: (ttlMinutes, model, { retentionDays = 0, owner = false } = {}) =>
    [
      `저는 **${model}** 모델로 대화하는 챗봇이에요. DM으로 무엇이든 물어보세요.`,
      `대화를 이어가는 동안 내용을 기억하고, ${ttlMinutes}분 동안 말이 없으면 새로 시작해요.`,
      '모든 대화는 저장되어 나중에 볼 수 있어요:',
      '• `/history` — 내 대화 기록, 최신순 (`format: file` 로 파일 받기)',
      '• `/logout` — 지금 대화 잊기 (기록은 유지)',
      '• `/clear-history` — 저장된 내 기록 모두 지우기',
      '• `/usage` — 오늘과 이번 달에 쓴 토큰',
      '• `/model` — 나에게 답할 모델 고르기',
      '• `/instructions` — 모든 대화에서 지킬 나만의 지시사항',
      '• `/privacy` — 무엇을 어디에 얼마나 오래 보관하는지',
      ...(owner ? ['• `/stats` — 전체 사용량 (봇 운영자용)'] : []),
      ...(retentionDays ? [retentionNote(retentionDays)] : []),
      '명령의 답은 나에게만 보여요.',
    ].join('\n'),
  retentionNote,
  model: {
    current: (model, models) => [`지금 **${model}** 모델과 대화하고 있어요.`, `\`/model\` 로 고를 수 있는 모델: ${models.map((m) => `\`${m}\``).join(', ')}.`].join('\n'),
    chosen: (model) => `바꿨어요. 다음 메시지부터 **${model}** 모델이 답해요.`,
    notAllowed: (model) => `죄송해요, \`${model}\` 모델은 이 봇에서 쓸 수 없어요. \`/model\` 로 쓸 수 있는 모델을 확인해 주세요.`,
  },
  instructions: {
    saved: '저장했어요. 다음 메시지부터 이 지시사항을 따를게요. 나에게만 보여요. `/instructions clear` 로 지울 수 있어요.',
    shown: (text) => `내 지시사항 (나에게만 보여요):\n>>> ${text}`,
    none: '설정한 지시사항이 없어요. `/instructions set` 으로 추가할 수 있어요.',
    cleared: '지시사항을 지웠어요.',
    empty: '지시사항이 비어 있어서 저장하지 않았어요.',
    tooLong: (length, max) => `죄송해요, 지시사항은 최대 ${number(max)}자까지 쓸 수 있어요. 지금은 ${number(length)}자예요. 줄여 주세요.`,
  },
  usage: {
    title: '**내 사용량** (날짜와 달은 UTC 기준)',
    today: (c) => `오늘: ${tokens(c)}.`,
    month: (c) => `이번 달: ${tokens(c)}.`,
    window: (used, cap, freesAt) =>
      freesAt
        ? `하루 한도: 지금의 24시간 구간에서 ${number(cap)}개 중 ${number(used)}개를 썼어요. ${when(freesAt)} 다시 채워져요.`
        : `하루 한도: 24시간마다 토큰 ${number(cap)}개. 다음 답변부터 구간이 시작돼요.`,
    note: '글 내용 없이 숫자만 남기므로 /clear-history 뒤에도 남아요.',
  },
  privacy: ({ sessionTtlMinutes, retentionDays, logsMessageContent, moderation }) =>
    [
      '**내가 무엇을, 어디에, 얼마나 오래 보관하는지**',
      `• **답하기 위해** 내가 쓴 글(보낸 파일의 글과 사진, 지금까지의 대화 포함)을 OpenAI 모델에 보내요${moderation ? '. 그 전에 OpenAI의 내용 검사도 거치며, 문제가 있으면 분류만 로그에 남아요' : ''}.`,
      `• **지금 대화**: 대화를 이어가려고 Redis에 두고, 마지막 메시지 뒤 ${sessionTtlMinutes}분이 지나거나 \`/logout\` 을 하면 바로 잊어요.`,
      `• **저장된 대화** (내가 쓴 글, 보낸 파일의 이름·형식·크기(내용은 저장하지 않아요), 답변, 시각, 모델, 토큰 수)와 Discord 사용자 이름: \`/history\` 를 위해 PostgreSQL에 저장해요. ${
        retentionDays ? `각 대화는 쓰인 지 ${retentionDays}일이 지나면 지워지고, 이름은 마지막 대화와 함께 지워져요.` : '직접 지울 때까지 보관해요.'
      }`,
      '• **토큰 수** (글 없이 숫자만): `/usage` 를 위해 PostgreSQL에 남아요. 기록을 지운 뒤에도 남아요.',
      '• **잠깐 두는 것들** (Redis): 답을 기다리는 메시지, 전달 중인 답변, 이번 1분과 오늘의 사용량, Discord 언어 설정(30일).',
      logsMessageContent
        ? '• **로그**: Discord ID, 메시지 ID, 그리고 봇 운영자가 켜 두었기 때문에 내가 쓴 글도 남아요.'
        : '• **로그**: Discord ID와 메시지 ID만 남고, 내가 쓴 글은 남지 않아요.',
      '**지우는 방법:** `/clear-history` 는 저장된 대화, 이름, 지금 대화, 아직 처리 중인 것까지 지워요. 그 순간 쓰이던 답변이 나중에 저장되지 않도록 ID와 시각만 남겨요. `/logout` 은 지금 대화만 잊고 기록은 남겨요.',
    ].join('\n'),
  stats: {
    refused: '죄송해요, `/stats` 는 봇 운영자만 쓸 수 있어요.',
    today: '**오늘 (UTC)**',
    last30Days: '**최근 30일 (UTC)**',
    section: (title, w) =>
      [
        `${title}: ${number(w.people)}명에게 답변, 저장된 대화 ${number(w.storedExchanges)}개`,
        ...w.models
          .slice(0, STATS_MODELS)
          .map(
            (m) =>
              `• \`${m.model}\`: ${number(m.people)}명, 답변 ${number(m.requests)}개, 읽은 토큰 ${number(m.promptTokens)}개 (캐시 ${number(m.cachedTokens)}개), 쓴 토큰 ${number(m.completionTokens)}개`,
          ),
        ...(w.models.length > STATS_MODELS ? [`• 그 밖의 모델 ${w.models.length - STATS_MODELS}개`] : []),
        ...(w.models.length ? [] : ['• 아직 없음']),
      ].join('\n'),
  },
  notYourButton: '이 버튼은 다른 사람의 것이에요. 직접 명령을 실행해 주세요.',
  stop: {
    button: '중지',
    notYours: '이 답을 받는 사람만 멈출 수 있어요.',
  },
  commandFailed: '죄송해요, 명령을 처리하지 못했어요. 잠시 뒤에 다시 시도해 주세요.',
  commands: {
    history: '나와 나눈 대화를 최신순으로 보여줘요 (나에게만 보여요)',
    historyFormat: '보여주는 방식',
    historyFormatPage: 'Discord에서 쪽으로 보기',
    historyFormatFile: 'Markdown 파일로 받기',
    historyFormatJson: 'JSON 파일로 받기',
    clearHistory: '저장된 내 대화를 모두 지워요',
    logout: '지금 대화를 잊고 새로 시작해요 (기록은 유지)',
    help: '무엇을 얼마나 기억하는지, 그리고 명령어 안내',
    usage: '오늘과 이번 달에 쓴 토큰 (나에게만 보여요)',
    privacy: '무엇을 어디에 얼마나 오래 보관하는지, 지우는 방법',
    stats: '전체 사용량: 사용자, 대화, 토큰 (운영자 전용)',
    model: '나에게 답할 모델을 고르거나, 지금 모델을 확인해요',
    modelOption: '앞으로 쓸 모델',
    instructions: '모든 대화에서 지킬 나만의 지시사항 (나에게만 보여요)',
    instructionsSet: '지시사항 설정하기 (있던 것은 바뀌어요)',
    instructionsText: '항상 기억할 내용 (최대 1,000자)',
    instructionsShow: '내 지시사항 보기',
    instructionsClear: '내 지시사항 지우기',
  },
};
