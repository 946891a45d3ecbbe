import { NotFoundMessage } from "@/components/dashboard/not-found-message";

export default function NotFound() {
  return <NotFoundMessage as="main" />;
}
